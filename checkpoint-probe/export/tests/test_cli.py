"""The command line's error paths: one-line messages and the project's exit codes."""

import os
import subprocess
import sys
import tempfile
import unittest

EXPORT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return subprocess.run([sys.executable, "-m", "moescope_export", *args], cwd=EXPORT_DIR,
                          capture_output=True, text=True, timeout=300)


class CommandLine(unittest.TestCase):
    def test_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--model", r.stdout)
        self.assertIn("Example:", r.stdout)

    def test_missing_arguments_is_a_usage_error(self):
        self.assertEqual(run().returncode, 2)

    def test_missing_checkpoint_or_transformers(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run("--model", os.path.join(tmp, "no-such-model"), "--out", os.path.join(tmp, "out"))
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("moescope_export: "), r.stderr)
        try:
            import transformers  # noqa: F401
        except ImportError:
            self.assertEqual(r.returncode, 2)
            self.assertIn("transformers", lines[0])
        else:
            self.assertEqual(r.returncode, 3)
            self.assertIn("no-such-model", lines[0])


if __name__ == "__main__":
    unittest.main()
