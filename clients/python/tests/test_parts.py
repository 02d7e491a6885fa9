"""Parts, keys and records without a server: the bytes and keys the push CLI makes.

The expected keys were printed by cli/parts.ts (partBody, partKey) for the same operations; the
end-to-end test test_client.KeysTest checks the same against the CLI itself."""

import unittest

from unified_sync.id_collisions import IdCollisions
from unified_sync.parts import part_body, part_key, sha256_hex
from unified_sync.records import RecordMapping, Skipped, is_delete_mark, to_operation
from unified_sync.transport import parse_retry_after

TS = "2026-02-01T00:00:00.000Z"
RAW = RecordMapping(namespace="tasks", id_field="key", delete_field="gone")


class PartsTest(unittest.TestCase):
    def test_keys_equal_the_cli_keys(self):
        # A raw record's data is the record itself: the CLI's line {"key":"t1",...} becomes data.
        upsert = to_operation(0, {"key": "t1", "name": "x"}, RecordMapping(namespace="tasks", id_field="key"))
        self.assertEqual(upsert.json, b'{"action":"upsert","id":"t1","namespace":"tasks","data":{"key":"t1","name":"x"}}')
        ops = [
            to_operation(0, {"action": "upsert", "id": "t1", "namespace": "tasks", "data": {"name": "Café \u0001 ☕", "n": 1}}, RecordMapping()).json,
            to_operation(1, {"key": 7, "gone": "yes"}, RAW).json,
        ]
        expected = {
            None: "usp-2-96b2c57e5ad0380afca0bd6c093f647708cfe22eaa634a44",
            False: "usp-2-3f679522b1062ea7f052b04765cc21c0a22c5cfa0e8b0372",
            True: "usp-2-3ce46935cad77e93edde7a8cb101d5c4b73f8031a5313ad0",
        }
        for final, key in expected.items():
            mode = "incremental" if final is None else "full_refresh"
            body = part_body("org_abc123", "vs_demo", mode, TS, ops, final, ["tasks", "notes"])
            self.assertEqual(part_key("vs_demo", TS, 2, sha256_hex(body)), key, f"final={final}")
        self.assertIn('"data":{"name":"Café \\u0001 ☕","n":1}'.encode(), body)


class RecordsTest(unittest.TestCase):
    def test_ids_are_strings_or_safe_integers(self):
        m = RecordMapping(namespace="tasks")
        self.assertEqual(to_operation(0, {"id": 42}, m).id, "42")
        self.assertEqual(to_operation(0, {"id": -(2**53 - 1)}, m).id, str(-(2**53 - 1)))
        self.assertEqual(to_operation(3, {}, m).code, "MISSING_ID")
        for bad in (True, 1.5, 2.0, "", None, [1], {"a": 1}, 2**53, 10**30):
            op = to_operation(3, {"id": bad}, m)
            self.assertIsInstance(op, Skipped, repr(bad))
            self.assertEqual((op.code, op.index), ("INVALID_ID", 3))

    def test_an_integer_and_its_string_collide(self):
        ids = IdCollisions()
        self.assertIsNone(ids.check("7", "number", 0))
        self.assertIsNone(ids.check("7", "number", 1))
        self.assertIsNone(ids.check("07", "string", 2))  # not the text of an integer: another id
        self.assertEqual(ids.check("7", "string", 3), ("ID_COLLISION", 0, "number"))
        for i in range(10_000):  # the table grows; nothing is lost
            self.assertIsNone(ids.check(str(i + 100), "string", i + 10))
        self.assertEqual(ids.check("5000", "number", 99_999), ("ID_COLLISION", 4910, "string"))

    def test_fields_are_own_keys_only(self):
        class Attr(dict):
            id = "from-attribute"

        self.assertEqual(to_operation(0, Attr(), RecordMapping(namespace="tasks")).code, "MISSING_ID")
        self.assertEqual(to_operation(0, {"__class__": "x"}, RecordMapping(namespace="tasks", id_field="__class__")).id, "x")
        self.assertEqual(to_operation(0, ("id", "1"), RecordMapping(namespace="tasks")).code, "INVALID_RECORD")

    def test_delete_marks_follow_the_cli(self):
        for truthy in (True, 1, -1, 0.5, "yes", "true", "1", [], {}):
            self.assertTrue(is_delete_mark(truthy), repr(truthy))
        for falsy in (False, 0, 0.0, float("nan"), None, "", "0", "false", "FALSE"):
            self.assertFalse(is_delete_mark(falsy), repr(falsy))

    def test_what_json_cannot_carry_is_skipped(self):
        m = RecordMapping(namespace="tasks")
        for bad in (float("nan"), float("inf"), "\ud800", object()):
            op = to_operation(0, {"id": "a", "v": bad}, m)
            self.assertEqual(op.code, "INVALID_JSON", repr(bad))
        self.assertEqual(to_operation(0, {"id": "a", "v": "x" * (256 * 1024)}, m).code, "RECORD_TOO_LARGE")


class RetryAfterTest(unittest.TestCase):
    def test_seconds_and_dates(self):
        self.assertEqual(parse_retry_after("5"), 5.0)
        self.assertEqual(parse_retry_after(" 1.5 "), 1.5)
        self.assertEqual(parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now=1767225600.0), 10.0)
        for bad in (None, "", "-1", "soon", "inf", "nan"):
            self.assertIsNone(parse_retry_after(bad), repr(bad))


if __name__ == "__main__":
    unittest.main()
