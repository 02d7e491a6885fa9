"""The client against a real ``npm run dev`` (started here on free ports, with its own state)."""

import json
import os
import subprocess
import tempfile
import tracemalloc
import unittest
from typing import Any, Dict, Iterator

from unified_sync import Client, RetryPolicy, UnifiedSyncError

from .support import ROOT, DevServer, FaultProxy, Tenant, new_tenant

server: DevServer


def setUpModule() -> None:
    global server
    server = DevServer()


def tearDownModule() -> None:
    server.stop()


def tasks(start: int, stop: int, pad: int = 0) -> Iterator[Dict[str, Any]]:
    """Raw records made one at a time (never a list)."""
    for i in range(start, stop):
        yield {"id": i, "title": f"Task {i}", "status": "open" if i % 3 else "done", "notes": "n" * pad}


def count_of(client: Client, store: str, namespace: str) -> int:
    for ns in client.namespaces(store):
        if ns["namespace"] == namespace:
            return ns["record_count"]
    return 0


class PushTest(unittest.TestCase):
    def setUp(self) -> None:
        self.t: Tenant = new_tenant(server.base, self._testMethodName[5:17])
        self.client = Client(server.base, self.t.key, organization_id=self.t.org)

    def test_12000_records_then_a_full_refresh_run_that_sweeps_in_two_rounds(self):
        first = self.client.push(self.t.store, tasks(0, 12_000), namespace="tasks")
        self.assertTrue(first.ok)
        self.assertEqual(first.parts, 3)  # 5000 + 5000 + 2000
        self.assertEqual(first.records_sent, 12_000)
        self.assertEqual(first.by_namespace["tasks"], {"upserted": 12_000, "deleted": 0, "unchanged": 0, "failed": 0, "stale": 0, "skipped": 0})
        self.assertEqual(count_of(self.client, self.t.store, "tasks"), 12_000)

        # The first 1000 again as a run of parts of 400: the 11,000 others are swept by the final
        # request, 10,000 a request, so the final is sent twice.
        run = self.client.push(self.t.store, tasks(0, 1000), mode="full_refresh", namespace="tasks", batch_size=400)
        self.assertTrue(run.ok, run.failures)
        self.assertEqual(run.parts, 4)
        self.assertEqual(run.results["unchanged"], 1000)
        self.assertEqual(run.results["deleted"], 11_000)
        self.assertEqual(run.run["state"], "completed")
        self.assertEqual(run.run["swept"], 11_000)
        self.assertEqual(sorted(self.client.record_ids(self.t.store, "tasks"), key=int), [str(i) for i in range(1000)])

        stored = self.client.run(self.t.store, run.sync_timestamp)
        self.assertEqual((stored["state"], stored["parts"], stored["swept"]), ("completed", 4, 11_000))
        self.assertEqual(stored["namespaces"], ["tasks"])

    def test_a_full_refresh_run_replaces_a_namespace_and_search_sees_it(self):
        self.client.push(self.t.store, tasks(0, 30), namespace="tasks")
        # The same records (unchanged content), 15 marked deleted.
        kept = [{**r, "gone": True} if r["id"] == 15 else r for r in tasks(10, 40)]
        result = self.client.push(self.t.store, iter(kept), mode="full_refresh", namespace="tasks", delete_field="gone", batch_size=12)
        self.assertTrue(result.ok)
        self.assertEqual(result.parts, 3)
        # 0-9 swept, 15 deleted by the run itself, the rest of 10-29 unchanged, 30-39 new.
        self.assertEqual(result.by_namespace["tasks"], {"upserted": 10, "deleted": 11, "unchanged": 19, "failed": 0, "stale": 0, "skipped": 0})
        self.assertEqual(result.run["swept"], 10)
        ids = sorted(map(int, self.client.record_ids(self.t.store, "tasks")))
        self.assertEqual(ids, [i for i in range(10, 40) if i != 15])
        hits = self.client.search(self.t.store, query="Task 17", namespace="tasks", top_k=5)
        self.assertTrue(hits)
        self.assertTrue(all(h["namespace"] == "tasks" and int(h["record_id"]) in ids for h in hits))

    def test_a_full_refresh_with_a_record_it_could_not_send_sweeps_nothing(self):
        self.client.push(self.t.store, tasks(0, 5), namespace="tasks")
        # 3 and "3" would both be record "3": the second is not sent, so the run has no final.
        records = [{"id": 1}, {"id": 3}, {"id": "3"}, {"id": 2.5}]
        result = self.client.push(self.t.store, records, mode="full_refresh", namespace="tasks")
        self.assertFalse(result.ok)
        self.assertEqual([(f["index"], f["code"]) for f in result.failures], [(2, "ID_COLLISION"), (3, "INVALID_ID")])
        self.assertEqual((result.parts, result.run["final_sent"], result.run["state"]), (1, False, "open"))
        self.assertEqual(count_of(self.client, self.t.store, "tasks"), 5)

    def test_operations_sync_and_status(self):
        answer = self.client.sync(
            self.t.store,
            "incremental",
            [{"action": "upsert", "id": "a", "namespace": "ops", "data": {"name": "A"}}],
            sync_timestamp="2026-01-15T10:00:00Z",
            idempotency_key="py-sync-1",
        )
        self.assertEqual(answer["results"]["upserted"], 1)
        self.assertEqual(self.client.sync_status(answer["sync_id"])["sync_id"], answer["sync_id"])
        again = self.client.sync(self.t.store, "incremental", [{"action": "upsert", "id": "a", "namespace": "ops", "data": {"name": "A"}}], sync_timestamp="2026-01-15T10:00:00Z", idempotency_key="py-sync-1")
        self.assertEqual(again["sync_id"], answer["sync_id"])

        ops = [
            {"action": "upsert", "id": "b", "namespace": "ops", "data": {"name": "B"}},
            {"action": "upsert", "id": "c", "namespace": "ops", "data": {}},  # empty data: the server fails it
            "not a dict",
            {"action": "delete", "id": "a", "namespace": "ops"},
        ]
        result = self.client.push(self.t.store, ops)
        self.assertFalse(result.ok)
        self.assertEqual(result.by_namespace["ops"], {"upserted": 1, "deleted": 1, "unchanged": 0, "failed": 1, "stale": 0, "skipped": 0})
        self.assertEqual(result.skipped, 1)
        by_index = {f["index"]: (f["code"], f["source"]) for f in result.failures}
        self.assertEqual(by_index, {1: ("INVALID_OPERATION", "server"), 2: ("INVALID_RECORD", "local")})

    def test_a_generator_of_records_is_never_held(self):
        total = 0

        def records():
            nonlocal total
            for r in tasks(0, 6000, pad=1000):
                total += len(json.dumps(r))
                yield r

        tracemalloc.start()
        try:
            result = self.client.push(self.t.store, records(), namespace="big", batch_size=500)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertTrue(result.ok)
        self.assertEqual(result.parts, 12)
        self.assertGreater(total, 6_000_000)
        # One part (500 records, about 0.5 MB) and its body are held at a time, not 6 MB of input.
        self.assertLess(peak, total / 3, f"peak {peak} bytes for {total} bytes of records")


class ErrorsTest(unittest.TestCase):
    def test_a_bad_key_is_refused_without_retries(self):
        t = new_tenant(server.base, "badkey")
        proxy = FaultProxy(server.base, lambda n: "pass")
        self.addCleanup(proxy.close)
        client = Client(proxy.base, "usk_not_a_key_0123456789abcdef", organization_id=t.org)
        with self.assertRaises(UnifiedSyncError) as caught:
            client.push(t.store, tasks(0, 10), namespace="tasks")
        err = caught.exception
        self.assertEqual((err.status, err.code), (401, "INVALID_API_KEY"))
        self.assertTrue(err.trace_id.startswith("req_"), err.trace_id)
        self.assertEqual(err.push_result.parts, 0)
        self.assertEqual(len(proxy.syncs()), 1)
        # Without organization_id the client looks the store up: the same refusal.
        with self.assertRaises(UnifiedSyncError) as caught:
            Client(server.base, "usk_not_a_key_0123456789abcdef").sync(t.store, "incremental", [])
        self.assertEqual(caught.exception.code, "INVALID_API_KEY")

    def test_a_503_is_retried_after_retry_after_and_a_lost_answer_is_replayed(self):
        t = new_tenant(server.base, "retry")
        plan = {1: (503, {"Retry-After": "1"}), 3: "lose-answer"}
        proxy = FaultProxy(server.base, lambda n: plan.get(n, "pass"))
        self.addCleanup(proxy.close)
        client = Client(proxy.base, t.key, retry=RetryPolicy(base_seconds=0.2))
        result = client.push(t.store, tasks(0, 20), namespace="tasks", batch_size=10)
        self.assertTrue(result.ok)
        self.assertEqual(result.by_namespace["tasks"]["upserted"], 20)
        syncs = proxy.syncs()
        # Part 1: refused (503), then applied; part 2: applied, answer lost, then replayed.
        self.assertEqual([(e.fault, e.status, e.replayed) for e in syncs], [("answer", 503, False), ("pass", 200, False), ("lose-answer", 200, False), ("pass", 200, True)])
        self.assertEqual(syncs[0].key, syncs[1].key)
        self.assertEqual(syncs[2].key, syncs[3].key)
        self.assertNotEqual(syncs[0].key, syncs[2].key)
        self.assertEqual(result.replayed_parts, 1)
        self.assertEqual(count_of(Client(server.base, t.key), t.store, "tasks"), 20)

    def test_retries_give_up(self):
        t = new_tenant(server.base, "giveup")
        proxy = FaultProxy(server.base, lambda n: (503, {"Retry-After": "0"}))
        self.addCleanup(proxy.close)
        client = Client(proxy.base, t.key, organization_id=t.org, retry=RetryPolicy(attempts=3))
        with self.assertRaises(UnifiedSyncError) as caught:
            client.push(t.store, tasks(0, 5), namespace="tasks")
        self.assertEqual(caught.exception.code, "RETRIES_EXHAUSTED")
        self.assertEqual(len(proxy.syncs()), 3)


class KeysTest(unittest.TestCase):
    def test_the_cli_sends_the_same_parts_with_the_same_keys(self):
        t = new_tenant(server.base, "keys")
        proxy = FaultProxy(server.base, lambda n: "pass")
        self.addCleanup(proxy.close)
        records = [{"key": i, "title": f"Tâche {i} ☕", "tab": "a\tb", "gone": i == 4} for i in range(7)]
        records.append({"key": "x/y", "nested": {"list": [1, 2.5, None, True]}})
        ts = "2026-03-01T12:00:00.000Z"
        client = Client(proxy.base, t.key, organization_id=t.org)
        result = client.push(t.store, records, mode="full_refresh", namespace="tasks", id_field="key", delete_field="gone", sync_timestamp=ts, batch_size=3)
        self.assertTrue(result.ok)
        python_keys = [e.key for e in proxy.syncs()]
        self.assertEqual(len(python_keys), 3)

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tasks.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                for r in records:
                    f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
            env = {**os.environ, "UNIFIED_SYNC_API_KEY": t.key}
            args = ["node", os.path.join(ROOT, "cli", "unified-sync.mjs"), "push", path, "--org", t.org, "--store", t.store]
            args += ["--mode", "full_refresh", "--namespace", "tasks", "--id-field", "key", "--delete-field", "gone"]
            args += ["--sync-timestamp", ts, "--batch-size", "3", "--url", proxy.base, "--json", "--no-progress"]
            cli = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(cli.returncode, 0, cli.stdout + cli.stderr)
        summary = json.loads(cli.stdout)
        self.assertEqual([e.key for e in proxy.syncs()][3:], python_keys)
        self.assertEqual((summary["parts"], summary["replayed_parts"]), (3, 3))


if __name__ == "__main__":
    unittest.main()
