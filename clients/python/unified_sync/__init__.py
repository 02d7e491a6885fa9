"""Python client of the unified sync endpoint (standard library only).

    from unified_sync import Client
    client = Client("http://127.0.0.1:8787", api_key)
    result = client.push("vs_demo", records, namespace="tasks", mode="full_refresh")
"""

from .client import Client
from .errors import UnifiedSyncError
from .push import PushResult
from .transport import RetryPolicy

__all__ = ["Client", "PushResult", "RetryPolicy", "UnifiedSyncError"]
__version__ = "0.1.0"
