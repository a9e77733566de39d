"""Unit tests for the pure parts of the jobstream callback plugin: run with
python3 -m unittest discover -s src/test/python (JUnit's PluginPythonTest runs them in the build)."""
import http.server
import importlib.util
import io
import json
import os
import random
import re
import socket
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.join(HERE, '..', '..', '..', 'ansible', 'callback_plugins', 'jobstream.py')
spec = importlib.util.spec_from_file_location('jobstream_plugin', PLUGIN)
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)


def rebuild(stdouts):
    """What the node serves as stdout: each non-empty event's stdout and a newline."""
    return ''.join(s + '\n' for s in stdouts if s)


def s_ends_with_lone_newline(chunks):
    """Whether the text after the last event that completed a line is exactly one newline."""
    s = plugin.StdoutSplitter()
    for c in chunks:
        s.take(c)
    return s.pending == '\n'


class StdoutSplitterTest(unittest.TestCase):
    def test_text_ending_a_line_is_stored_without_its_final_newline(self):
        s = plugin.StdoutSplitter()
        self.assertEqual(s.take('\nPLAY [x] ***\n'), ('\nPLAY [x] ***', 0, 2))
        self.assertEqual(s.take('ok: [h]\n'), ('ok: [h]', 2, 3))

    def test_an_event_that_printed_nothing_has_equal_start_and_end_lines(self):
        s = plugin.StdoutSplitter()
        s.take('a\n')
        self.assertEqual(s.take(''), ('', 1, 1))

    def test_a_lone_newline_and_a_partial_line_are_carried_to_the_next_event(self):
        s = plugin.StdoutSplitter()
        self.assertEqual(s.take('\n'), ('', 0, 0))
        self.assertEqual(s.take('part'), ('', 0, 0))
        self.assertEqual(s.take('ial\n'), ('\npartial', 0, 2))

    def test_the_rebuilt_text_equals_the_printed_text_for_any_chunking(self):
        rnd = random.Random(7)
        alphabet = ['a', 'é', '\n', '\n', '\x1b[0;32m', ' ']
        for _ in range(500):
            chunks = [''.join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6))) for _ in range(rnd.randint(1, 12))]
            text = ''.join(chunks)
            s = plugin.StdoutSplitter()
            out = []
            lines = 0
            for c in chunks:
                stdout, start, end = s.take(c)
                self.assertEqual(start, lines)
                lines = end
                out.append(stdout)
            rest, _, _ = s.rest()
            out.append(rest)
            # The two cases the node's format cannot hold, both only at the very end of a run: a last line without
            # newline gets one, and a lone newline after the last complete line is lost.
            if not text.endswith('\n') and text:
                expected = text + '\n'
            elif s_ends_with_lone_newline(chunks):
                expected = text[:-1]
            else:
                expected = text
            self.assertEqual(rebuild(out), expected, repr(chunks))
            self.assertEqual(s.line, rebuild(out).count('\n'))


class CreatedTest(unittest.TestCase):
    def test_created_is_utc_with_microseconds_and_offset(self):
        self.assertRegex(plugin.now_iso(), r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$')


class _Node(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    answers = []
    received = []
    posted_at = []
    retry_after = '0.05'

    def do_POST(self):
        self.posted_at.append(time.monotonic())
        body = self.rfile.read(int(self.headers['Content-Length']))
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.received.extend(body.decode('utf-8').splitlines())
        reply = b'{"accepted":0,"duplicates":0,"rejected":[],"repaired":[]}'
        self.send_response(status)
        if status in (429, 503):
            self.send_header('Retry-After', self.retry_after)
        self.send_header('Content-Length', str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


class SenderTest(unittest.TestCase):
    def setUp(self):
        _Node.answers = []
        _Node.received = []
        _Node.posted_at = []
        _Node.retry_after = '0.05'
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Node)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d/' % self.server.server_address[1]

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def test_every_line_arrives_once_in_order_after_503_answers(self):
        _Node.answers = [503, 503]
        err = io.StringIO()
        sender = plugin.Sender(self.url, '', 1 << 20, err=err)
        lines = [json.dumps({'counter': i}) for i in range(1, 501)]
        for line in lines:
            sender.offer(line)
        self.assertTrue(sender.close(10))
        self.assertEqual(_Node.received, lines)

    def test_a_rate_limited_request_is_sent_again_whole_after_retry_after(self):
        # 429: the node stored nothing of the request (ingest.max-rate), so the same lines go again, once it says
        _Node.answers = [429]
        _Node.retry_after = '0.4'
        sender = plugin.Sender(self.url, '', 1 << 20, err=io.StringIO())
        lines = [json.dumps({'counter': i}) for i in range(1, 51)]
        for line in lines:
            sender.offer(line)
        self.assertTrue(sender.close(10))
        self.assertEqual(_Node.received, lines)
        self.assertGreaterEqual(len(_Node.posted_at), 2)
        self.assertGreaterEqual(_Node.posted_at[1] - _Node.posted_at[0], 0.35)  # waited as told, not its 0.1 s backoff

    def test_a_node_that_never_answers_makes_close_give_up_in_time(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        sender = plugin.Sender('http://127.0.0.1:%d/' % port, '', 1 << 20, err=io.StringIO())
        sender.offer('{"counter": 1}')
        self.assertFalse(sender.close(0.5))
        self.assertEqual(sender.pending(), 1)
        self.assertRegex(sender.last_error or '', 'Connection|refused|Errno')

    def test_a_full_buffer_drops_and_counts_instead_of_blocking(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        sender = plugin.Sender('http://127.0.0.1:%d/' % port, '', 100, err=io.StringIO())
        results = [sender.offer('x' * 40) for _ in range(10)]
        self.assertIn(False, results)
        self.assertGreater(sender.dropped, 0)
        sender.close(0.1)

    def test_the_ingest_path_is_added_to_the_base_url(self):
        sender = plugin.Sender('http://node:8052/prefix/', 'tok', 1 << 20, err=io.StringIO())
        self.assertEqual(sender.path, '/prefix/api/v2/job_events/ingest/')
        self.assertEqual((sender.host, sender.port), ('node', 8052))
        sender.close(0.1)


if __name__ == '__main__':
    unittest.main()
