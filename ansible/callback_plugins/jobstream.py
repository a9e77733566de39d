# jobstream stdout callback plugin: prints what Ansible's default callback prints and sends every callback to a
# jobstream node as an AWX-format job event. Standard library only (plus ansible-core itself).
#
# Design, in short:
#  * The plugin subclasses the default stdout callback, so the terminal shows exactly the default output.
#  * sys.stdout and sys.stderr are wrapped by a tee that passes every write through unchanged and also appends
#    it to the text of the event being built. Each hook (v2_runner_on_ok, ...) runs inside a capture, so an
#    event's stdout is exactly what that hook printed, colours included. Text printed outside any hook (-v
#    output, warnings, deprecations, errors) becomes verbose/warning/deprecated/error events.
#  * Hooks run on two threads in ansible-core (the main thread and the strategy's results thread), and Display
#    writes under its own lock. Hooks and tee writes take that same lock, so the order of counters is the order
#    of the text on the terminal and the two locks can never be taken in opposite orders.
#  * The jobstream node joins event stdout with one newline after each non-empty event (as AWX does). To make
#    the stored text equal the printed text byte for byte, an event carries its text minus the final newline;
#    text that does not end a line yet is carried into the next event.
#  * A daemon thread sends the events as NDJSON over one keep-alive HTTP connection, in batches of whatever has
#    queued meanwhile, and retries with backoff (honouring Retry-After) while the node is down or busy. Ingest is
#    idempotent on (job, counter), so resending a batch after an unclear failure is safe. The buffer is bounded;
#    nothing in here ever raises into Ansible. At exit the EOF is queued and the tail gets a bounded time to go.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: jobstream
    type: stdout
    short_description: default output, and every callback sent to a jobstream node as a job event
    description:
        - Prints what the default callback prints and sends AWX-format job events to jobstream.
        - Configured by environment variables JOBSTREAM_URL, JOBSTREAM_JOB_ID, JOBSTREAM_TOKEN,
          JOBSTREAM_FLUSH_TIMEOUT, JOBSTREAM_BUFFER_BYTES; without JOBSTREAM_URL it only prints.
    extends_documentation_fragment:
      - default_callback
      - result_format_callback
    requirements:
      - set as stdout in configuration
'''

import atexit
import collections
import datetime
import fcntl
import http.client
import json
import os
import ssl
import stat
import sys
import threading
import time
import urllib.parse
import uuid

from ansible import constants as C
from ansible.plugins.callback.default import CallbackModule as DefaultCallbackModule
from ansible.utils.display import Display

try:
    from ansible.module_utils.common.json import AnsibleJSONEncoder as _BaseEncoder
except ImportError:  # very old cores
    _BaseEncoder = json.JSONEncoder

INGEST_PATH = '/api/v2/job_events/ingest/'

# Hook -> AWX event name (reference 2.11). Handler and cleanup task starts are task starts for AWX.
HOOKS = {
    'v2_playbook_on_start': 'playbook_on_start',
    'v2_playbook_on_play_start': 'playbook_on_play_start',
    'v2_playbook_on_task_start': 'playbook_on_task_start',
    'v2_playbook_on_handler_task_start': 'playbook_on_task_start',
    'v2_playbook_on_cleanup_task_start': 'playbook_on_task_start',
    'v2_playbook_on_notify': 'playbook_on_notify',
    'v2_playbook_on_include': 'playbook_on_include',
    'v2_playbook_on_no_hosts_matched': 'playbook_on_no_hosts_matched',
    'v2_playbook_on_no_hosts_remaining': 'playbook_on_no_hosts_remaining',
    'v2_playbook_on_vars_prompt': 'playbook_on_vars_prompt',
    'v2_playbook_on_import_for_host': 'playbook_on_import_for_host',
    'v2_playbook_on_not_import_for_host': 'playbook_on_not_import_for_host',
    'v2_playbook_on_stats': 'playbook_on_stats',
    'v2_runner_on_start': 'runner_on_start',
    'v2_runner_on_ok': 'runner_on_ok',
    'v2_runner_on_failed': 'runner_on_failed',
    'v2_runner_on_skipped': 'runner_on_skipped',
    'v2_runner_on_unreachable': 'runner_on_unreachable',
    'v2_runner_on_async_poll': 'runner_on_async_poll',
    'v2_runner_on_async_ok': 'runner_on_async_ok',
    'v2_runner_on_async_failed': 'runner_on_async_failed',
    'v2_runner_item_on_ok': 'runner_item_on_ok',
    'v2_runner_item_on_failed': 'runner_item_on_failed',
    'v2_runner_item_on_skipped': 'runner_item_on_skipped',
    'v2_runner_retry': 'runner_retry',
    'v2_on_file_diff': 'runner_on_file_diff',
}

# Display methods whose output outside a hook becomes an event of that name.
DISPLAY_KINDS = ('warning', 'deprecated', 'error', 'debug', 'verbose')


def now_iso():
    """UTC with microseconds and offset, always 6 digits (isoformat drops them when zero)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='microseconds')


class _Encoder(_BaseEncoder):
    """Ansible's encoder (vault, unsafe text, dates), and a string for anything else a module returned."""

    def default(self, o):
        try:
            return super(_Encoder, self).default(o)
        except TypeError:
            return repr(o)


def to_json(obj):
    return json.dumps(obj, cls=_Encoder, ensure_ascii=False, separators=(',', ':'))


class StdoutSplitter(object):
    """Turns the printed text of each event into the event's stdout, start_line and end_line.

    The node rebuilds the output as: for each event in counter order with non-empty stdout, stdout + newline.
    So an event whose text ends a line gets that text without its final newline; a lone newline or a partial
    line is carried into the next event, so no byte is lost or added. Pure, for unit tests.
    """

    def __init__(self):
        self.pending = ''
        self.line = 0

    def take(self, text):
        """Adds the text an event printed; returns (stdout, start_line, end_line) for that event."""
        p = self.pending + text
        start = self.line
        if len(p) > 1 and p.endswith('\n'):
            self.pending = ''
            stdout = p[:-1]
            self.line += stdout.count('\n') + 1
            return stdout, start, self.line
        self.pending = p
        return '', start, start

    def rest(self):
        """Text still carried at the end. A final line without newline gets one when the node rebuilds the text,
        and a lone final newline cannot be stored at all (an empty stdout is skipped): the only two ways stored
        output can differ from the terminal, and only after the last event (Ansible's own output never ends so)."""
        p, self.pending = self.pending, ''
        if not p:
            return '', self.line, self.line
        start = self.line
        stdout = p[:-1] if p.endswith('\n') else p
        if stdout:
            self.line += stdout.count('\n') + 1
        return stdout, start, self.line


class Sender(object):
    """Delivers NDJSON lines to the ingest endpoint from a daemon thread; never raises to its callers."""

    MAX_BATCH_EVENTS = 2000
    MAX_BATCH_BYTES = 8 << 20

    def __init__(self, url, token, buffer_bytes, err=None, linger=0.05):
        parts = urllib.parse.urlsplit(url)
        self.https = parts.scheme == 'https'
        self.host = parts.hostname or '127.0.0.1'
        self.port = parts.port or (443 if self.https else 80)
        self.path = (parts.path.rstrip('/') + INGEST_PATH) if parts.path not in ('', '/') else INGEST_PATH
        self.url = url
        self.token = token
        self.buffer_bytes = buffer_bytes
        self.err = err or sys.__stderr__
        self.lines = collections.deque()
        self.queued_bytes = 0
        self.cond = threading.Condition()
        self.closed = False
        self.in_flight = 0
        self.dropped = 0
        self.rejected = 0
        self.delivered = 0
        self.last_error = None
        self.failing_since = None
        self.said_failing = False
        self.conn = None
        self.max_batch = self.MAX_BATCH_EVENTS
        # How long a batch may wait for more events after its first: fewer, larger requests cost the playbook's
        # process (and the node) much less CPU than one request per event, for a few tens of ms of latency.
        self.linger = linger
        self.thread = threading.Thread(target=self._run, name='jobstream-sender', daemon=True)
        self.thread.start()

    def offer(self, line):
        """Queues one event (JSON text or its UTF-8 bytes); drops it (counted, reported at exit) when the buffer is
        full."""
        data = line.encode('utf-8') if isinstance(line, str) else line
        with self.cond:
            if self.queued_bytes + len(data) > self.buffer_bytes and self.lines:
                self.dropped += 1
                return False
            self.lines.append(data)
            self.queued_bytes += len(data)
            # Wake the sender only when it has something new to decide: the first line, or a full batch.
            if len(self.lines) == 1 or len(self.lines) >= self.max_batch:
                self.cond.notify()
        return True

    def pending(self):
        with self.cond:
            return len(self.lines) + self.in_flight

    def close(self, timeout):
        """Waits up to timeout seconds for everything queued to be delivered; True when it was."""
        deadline = time.monotonic() + timeout
        with self.cond:
            self.closed = True
            self.cond.notify_all()
            while self.lines or self.in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.1))
        return True

    def _take(self):
        with self.cond:
            while not self.lines:
                if self.closed:
                    return None
                self.cond.wait(1.0)
            deadline = time.monotonic() + self.linger
            while not self.closed and len(self.lines) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            batch = []
            size = 0
            while self.lines and len(batch) < self.max_batch and (not batch or size + len(self.lines[0]) <= self.MAX_BATCH_BYTES):
                data = self.lines.popleft()
                batch.append(data)
                size += len(data)
            self.queued_bytes -= size
            self.in_flight = len(batch)
            return batch

    def _done(self, batch, requeue):
        with self.cond:
            if requeue:
                self.lines.extendleft(reversed(batch))
                self.queued_bytes += sum(len(b) for b in batch)
            self.in_flight = 0
            self.cond.notify_all()

    def _run(self):
        backoff = 0.1
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                wait = self._post(batch)
            except Exception as e:  # connection refused/reset, timeouts, anything: retry
                self._close_conn()
                wait = None
                self._failing('%s: %s' % (type(e).__name__, e))
            if wait == 0:
                backoff = 0.1
                self.failing_since = None
                if self.said_failing:
                    self._say('delivering events again to %s' % self.url)
                    self.said_failing = False
                self._done(batch, requeue=False)
                continue
            self._done(batch, requeue=True)
            pause = wait if wait is not None else backoff
            backoff = min(backoff * 2, 5.0)
            with self.cond:
                # Sleeps, but wakes at once when close() is called so the exit deadline is used for retries.
                self.cond.wait(pause)

    def _post(self, batch):
        """Returns 0 when the batch is done with, else seconds to wait before resending it (None = backoff)."""
        if self.conn is None:
            if self.https:
                # JOBSTREAM_CA_FILE: the node's certificate when it is not signed by a CA the system trusts
                # (a jobstream node started with --tls-self-signed passes it to the jobs it launches).
                cafile = os.environ.get('JOBSTREAM_CA_FILE') or None
                context = ssl.create_default_context(cafile=cafile)
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=60, context=context)
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        body = b'\n'.join(batch) + b'\n'
        headers = {'Content-Type': 'application/x-ndjson', 'Connection': 'keep-alive'}
        if self.token:
            headers['Authorization'] = 'Bearer ' + self.token
        self.conn.request('POST', self.path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        status = resp.status
        if resp.will_close:
            self._close_conn()
        if status == 200:
            self.delivered += len(batch)
            self._check_reply(data)
            return 0
        if status in (429, 502, 503, 504) or status >= 500:
            self._failing('HTTP %d' % status)
            retry_after = resp.getheader('Retry-After')
            try:
                return max(0.05, min(float(retry_after), 30.0)) if retry_after else None
            except ValueError:
                return None
        if status == 413 and len(batch) > 1:
            self.max_batch = max(1, len(batch) // 2)
            return 0.01
        # Any other answer will not change by resending: the events are lost, and we say so.
        self.rejected += len(batch)
        self._say('node refused %d events with HTTP %d: %s' % (len(batch), status, data[:300].decode('utf-8', 'replace')))
        return 0

    def _check_reply(self, data):
        try:
            reply = json.loads(data.decode('utf-8'))
        except ValueError:
            return
        bad = reply.get('rejected') or []
        if bad:
            self.rejected += len(bad)
            self._say('node rejected %d events: %s' % (len(bad), json.dumps(bad[:3])))

    def _failing(self, reason):
        self.last_error = reason
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        elif not self.said_failing and time.monotonic() - self.failing_since > 5:
            self.said_failing = True
            self._say('cannot deliver events to %s (%s); retrying, the playbook goes on' % (self.url, reason))

    def _close_conn(self):
        try:
            if self.conn is not None:
                self.conn.close()
        except Exception:
            pass
        self.conn = None

    def _say(self, msg):
        try:
            self.err.write('jobstream: %s\n' % msg)
            self.err.flush()
        except Exception:
            pass


def already_printed():
    """What this process printed before Ansible loaded the plugin (with -v: version banner, config file), when
    stdout is a regular file written from its start, as for jobs a jobstream node launches. A terminal or pipe
    cannot be read back; a file opened for appending may hold older runs, so both are left alone."""
    try:
        info = os.fstat(1)
        if not stat.S_ISREG(info.st_mode) or fcntl.fcntl(1, fcntl.F_GETFL) & os.O_APPEND:
            return ''
        sys.stdout.flush()
        sys.stderr.flush()
        offset = os.lseek(1, 0, os.SEEK_CUR)
        if offset <= 0 or offset > (1 << 20):
            return ''
        with open('/proc/self/fd/1', 'rb') as f:
            return f.read(offset).decode('utf-8', 'replace')
    except Exception:
        return ''


class _Tee(object):
    """Stands in for sys.stdout/sys.stderr: writes through, and hands the text to the plugin."""

    def __init__(self, real, sink):
        self._real = real
        self._sink = sink

    def write(self, s):
        n = self._real.write(s)
        try:
            self._sink(s)
        except Exception:
            pass
        return n

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def __getattr__(self, name):
        return getattr(self._real, name)


class CallbackModule(DefaultCallbackModule):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'jobstream'

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._js_pid = os.getpid()
        self._js_lock = getattr(self._display, '_lock', None) or threading.RLock()
        self._js_local = threading.local()
        self._js_counter = 0
        self._js_splitter = StdoutSplitter()
        self._js_playbook = {}
        self._js_play = {}
        self._js_task_ctx = {}
        self._js_task_uuids = collections.Counter()
        self._js_starts = {}
        self._js_closed = False
        self._js_job_id = None
        self._js_sender = None
        self._js_max_res = int(os.environ.get('MAX_EVENT_RES', '700000') or 700000)
        url = os.environ.get('JOBSTREAM_URL', '').strip()
        job = os.environ.get('JOBSTREAM_JOB_ID', '').strip()
        if url:
            try:
                self._js_job_id = int(job)
            except ValueError:
                sys.__stderr__.write('jobstream: JOBSTREAM_URL is set but JOBSTREAM_JOB_ID is not a job id (%r); '
                                     'no events are sent\n' % job)
        if self._js_job_id is not None:
            try:
                buffer_bytes = int(os.environ.get('JOBSTREAM_BUFFER_BYTES', str(64 << 20)))
            except ValueError:
                buffer_bytes = 64 << 20
            try:
                linger = float(os.environ.get('JOBSTREAM_LINGER', '0.05'))
            except ValueError:
                linger = 0.05
            self._js_sender = Sender(url, os.environ.get('JOBSTREAM_TOKEN', ''), buffer_bytes, linger=linger)
        early = already_printed()
        self._js_install()
        if early:
            with self._js_lock:
                self._js_printed(early)
        atexit.register(self._js_finish)

    # -- capture -------------------------------------------------------------------------------------------

    def _js_install(self):
        sys.stdout = _Tee(sys.stdout, self._js_printed)
        sys.stderr = _Tee(sys.stderr, self._js_printed)
        plugin = self
        for kind in DISPLAY_KINDS:
            original = getattr(Display, kind, None)
            if original is None or getattr(original, '_jobstream', False):
                continue

            def wrapper(self_, *args, _original=original, _kind=kind, **kwargs):
                local = plugin._js_local
                if getattr(local, 'kind', None) is not None:
                    return _original(self_, *args, **kwargs)
                local.kind = _kind
                local.verbosity = (kwargs.get('caplevel', args[2] if len(args) > 2 else 2) + 1) if _kind == 'verbose' else None
                try:
                    return _original(self_, *args, **kwargs)
                finally:
                    local.kind = None
                    local.verbosity = None

            wrapper._jobstream = True
            setattr(Display, kind, wrapper)
        original_display = Display.display
        if not getattr(original_display, '_jobstream', False):
            colours = {C.COLOR_WARN: 'warning', C.COLOR_DEPRECATE: 'deprecated', C.COLOR_ERROR: 'error'}

            def display(self_, msg, color=None, stderr=False, *args, **kwargs):
                # Messages proxied from worker processes arrive here directly: their colour says what they are.
                local = plugin._js_local
                if getattr(local, 'kind', None) is not None or not stderr or color not in colours:
                    return original_display(self_, msg, color, stderr, *args, **kwargs)
                local.kind = colours[color]
                try:
                    return original_display(self_, msg, color, stderr, *args, **kwargs)
                finally:
                    local.kind = None

            display._jobstream = True
            Display.display = display

    def _js_printed(self, text):
        """Every write to stdout/stderr in this process lands here (under Display's lock when Display wrote)."""
        if os.getpid() != self._js_pid or not text:
            return
        with self._js_lock:
            local = self._js_local
            capture = getattr(local, 'capture', None)
            if capture is not None:
                capture.append(text)
                return
            if self._js_closed:
                return
            stdout, start, end = self._js_splitter.take(text)
            if not stdout and start == end and self._js_splitter.pending:
                return  # a partial line: it goes out with the next event
            kind = getattr(local, 'kind', None) or 'verbose'
            event = {'event': kind}
            if kind == 'verbose' and getattr(local, 'verbosity', None) is not None:
                event['verbosity'] = local.verbosity
            self._js_emit(event, self._js_context({}), stdout, start, end)

    # -- events -------------------------------------------------------------------------------------------

    def _js_context(self, event_data):
        data = dict(self._js_playbook)
        data.update(self._js_play)
        data.update(self._js_task_ctx)
        data.update(event_data)
        return data

    def _js_emit(self, event, event_data, stdout, start, end):
        self._js_counter += 1
        event['uuid'] = event.get('uuid') or str(uuid.uuid4())
        event['counter'] = self._js_counter
        event['created'] = now_iso()
        event['stdout'] = stdout
        event['start_line'] = start
        event['end_line'] = end
        event['pid'] = self._js_pid
        if event_data is not None:
            event_data.setdefault('uuid', event['uuid'])
            for key in ('task_uuid', 'play_uuid', 'playbook_uuid'):
                parent = event_data.get(key)
                if parent and parent != event['uuid']:
                    event['parent_uuid'] = parent
                    break
            event['event_data'] = event_data
            host = event_data.get('host')
            if isinstance(host, str):
                event['host_name'] = host.strip()
        if self._js_job_id is not None:
            event['job_id'] = self._js_job_id
            try:
                line = to_json(event)
            except Exception as e:  # should not happen with the fallback encoder; never break the playbook
                event['event_data'] = {'error': 'event_data not serialisable: %s' % e}
                line = to_json(event)
            try:
                data = line.encode('utf-8')
            except UnicodeEncodeError:
                # Lone surrogates (command output that was not UTF-8, decoded with surrogateescape) cannot be
                # UTF-8; as \u escapes they are valid JSON, and the node replaces them with U+FFFD and says so.
                data = json.dumps(event, cls=_Encoder, ensure_ascii=True, separators=(',', ':')).encode('ascii')
            self._js_sender.offer(data)

    def _js_hook(self, hook, event_name, original, args, kwargs):
        local = self._js_local
        if os.getpid() != self._js_pid or getattr(local, 'capture', None) is not None:
            return original(self, *args, **kwargs)  # nested hook: part of the outer event
        with self._js_lock:
            try:
                uid, data = self._js_describe(hook, args, kwargs)
            except Exception as e:
                uid, data = None, {'jobstream_error': 'describing %s failed: %s' % (hook, e)}
            captured = []
            local.capture = captured
            try:
                return original(self, *args, **kwargs)
            finally:
                local.capture = None
                stdout, start, end = self._js_splitter.take(''.join(captured))
                try:
                    self._js_emit({'event': event_name, 'uuid': uid}, self._js_context(data), stdout, start, end)
                except Exception as e:
                    sys.__stderr__.write('jobstream: could not build the %s event: %s\n' % (event_name, e))

    def _js_task(self, task):
        data = {}
        if task is None:
            return data
        data['task'] = task.get_name().strip()
        data['task_uuid'] = str(task._uuid)
        data['task_action'] = task.action
        resolved = getattr(task, 'resolved_action', None)
        if resolved:
            data['resolved_action'] = resolved
        data['task_path'] = task.get_path()
        role = getattr(task, '_role', None)
        if role:
            data['role'] = role.get_name(include_role_fqcn=False) if hasattr(role, 'get_name') else str(role)
        if C.DISPLAY_ARGS_TO_STDOUT and not task.no_log:
            data['task_args'] = ', '.join('%s=%s' % a for a in task.args.items())
        else:
            data['task_args'] = ''
        return data

    def _js_res(self, result_dict):
        res = result_dict
        if isinstance(res, dict):
            if res.get('_ansible_no_log'):
                return {'censored': "the output has been hidden due to the fact that 'no_log: true' was specified for this result"}
            if isinstance(res.get('results'), list):
                items = []
                for item in res['results']:
                    if isinstance(item, dict) and item.get('_ansible_no_log'):
                        items.append({'censored': "the output has been hidden due to the fact that 'no_log: true' was specified for this result"})
                    else:
                        items.append(item)
                res = dict(res, results=items)
            facts = res.get('ansible_facts')
            if isinstance(facts, dict) and 'ansible_env' in facts:
                res = dict(res, ansible_facts={k: v for k, v in facts.items() if k != 'ansible_env'})
        if len(str(res)) > self._js_max_res:
            return {}
        return res

    def _js_result(self, result, event_data):
        host = result._host
        task = result._task
        data = self._js_task(task)
        data['host'] = host.get_name()
        data['remote_addr'] = getattr(host, 'address', None) or host.get_name()
        data['res'] = self._js_res(result._result)
        event_data.update(data)
        return event_data

    def _js_timed(self, result, event_data):
        key = (result._host.get_name(), str(result._task._uuid))
        end = datetime.datetime.now(datetime.timezone.utc)
        start = self._js_starts.pop(key, None)
        event_data['start'] = start.isoformat() if start else None
        event_data['end'] = end.isoformat()
        event_data['duration'] = (end - start).total_seconds() if start else None
        event_data['event_loop'] = result._task.loop if getattr(result._task, 'loop', None) else None
        return event_data

    def _js_describe(self, hook, args, kwargs):
        """The event's own uuid (or None for a fresh one) and its hook-specific event_data."""
        if hook == 'v2_playbook_on_start':
            playbook = args[0]
            pb_uuid = str(uuid.uuid4())
            self._js_playbook = {'playbook': getattr(playbook, '_file_name', '') or '', 'playbook_uuid': pb_uuid}
            self._js_play = {}
            self._js_task_ctx = {}
            return pb_uuid, {}
        if hook == 'v2_playbook_on_play_start':
            play = args[0]
            hosts = play.hosts if isinstance(play.hosts, list) else [play.hosts]
            pattern = ','.join(str(h) for h in hosts)
            self._js_play = {'play': play.get_name().strip(), 'play_uuid': str(play._uuid), 'play_pattern': pattern}
            self._js_task_ctx = {}
            return str(play._uuid), {'name': play.get_name().strip(), 'pattern': pattern}
        if hook in ('v2_playbook_on_task_start', 'v2_playbook_on_handler_task_start',
                    'v2_playbook_on_cleanup_task_start'):
            task = args[0]
            data = self._js_task(task)
            # A task uuid seen again (serial batches, free strategy) gets a suffix so event uuids stay unique.
            seen = self._js_task_uuids[data['task_uuid']]
            self._js_task_uuids[data['task_uuid']] += 1
            if seen:
                data['task_uuid'] = '%s_%d' % (data['task_uuid'], seen)
            data['name'] = data['task']
            self._js_task_ctx = {k: v for k, v in data.items() if k in ('task', 'task_uuid', 'task_action', 'task_path', 'role')}
            if hook == 'v2_playbook_on_task_start':
                data['is_conditional'] = bool(args[1] if len(args) > 1 else kwargs.get('is_conditional', False))
            else:
                data['is_conditional'] = hook == 'v2_playbook_on_handler_task_start'
            return data['task_uuid'], data
        if hook == 'v2_runner_on_start':
            host, task = args[0], args[1]
            self._js_starts[(host.get_name(), str(task._uuid))] = datetime.datetime.now(datetime.timezone.utc)
            data = self._js_task(task)
            data['host'] = host.get_name()
            return None, data
        if hook in ('v2_runner_on_ok', 'v2_runner_on_failed', 'v2_runner_on_skipped', 'v2_runner_on_unreachable'):
            result = args[0]
            data = self._js_timed(result, self._js_result(result, {}))
            if hook == 'v2_runner_on_failed':
                data['ignore_errors'] = bool(args[1] if len(args) > 1 else kwargs.get('ignore_errors', False))
            return None, data
        if hook in ('v2_runner_item_on_ok', 'v2_runner_item_on_failed', 'v2_runner_item_on_skipped',
                    'v2_runner_retry', 'v2_runner_on_async_poll', 'v2_runner_on_async_ok',
                    'v2_runner_on_async_failed', 'v2_on_file_diff'):
            return None, self._js_result(args[0], {})
        if hook == 'v2_playbook_on_notify':
            handler, host = args[0], args[1]
            return None, {'handler': handler.get_name(), 'host': str(host)}
        if hook == 'v2_playbook_on_include':
            included = args[0]
            return None, {'included_file': included._filename, 'hosts': [h.name for h in included._hosts]}
        if hook == 'v2_playbook_on_stats':
            stats = args[0]
            self._js_play = {}
            self._js_task_ctx = {}
            data = {k: dict(getattr(stats, k, {}) or {}) for k in
                    ('changed', 'dark', 'failures', 'ignored', 'ok', 'processed', 'rescued', 'skipped')}
            custom = getattr(stats, 'custom', {}) or {}
            data['artifact_data'] = custom.get('_run', {})
            return None, data
        return None, {}

    # -- exit ---------------------------------------------------------------------------------------------

    def _js_finish(self):
        """At interpreter exit: the last partial line, the EOF, then a bounded wait for delivery."""
        if os.getpid() != self._js_pid:
            return
        with self._js_lock:
            if self._js_closed:
                return
            self._js_closed = True
            stdout, start, end = self._js_splitter.rest()
            if stdout:
                self._js_emit({'event': 'verbose'}, self._js_context({}), stdout, start, end)
            if self._js_sender is None:
                return
            self._js_sender.offer(to_json({'event': 'EOF', 'job_id': self._js_job_id,
                                           'final_counter': self._js_counter}))
        try:
            timeout = float(os.environ.get('JOBSTREAM_FLUSH_TIMEOUT', '30'))
        except ValueError:
            timeout = 30.0
        sender = self._js_sender
        if not sender.close(timeout):
            sys.__stderr__.write('jobstream: gave up after %gs: %d of %d events (and the EOF) were not delivered to %s'
                                 ' (last error: %s)\n' % (timeout, sender.pending(), self._js_counter + 1,
                                                          sender.url, sender.last_error))
        if sender.dropped:
            sys.__stderr__.write('jobstream: %d events were dropped because the buffer (JOBSTREAM_BUFFER_BYTES) was'
                                 ' full while %s was unreachable\n' % (sender.dropped, sender.url))
        try:
            sys.__stderr__.flush()
        except Exception:
            pass


def _make_hook(hook, event_name):
    original = getattr(DefaultCallbackModule, hook, None)

    def method(self, *args, **kwargs):
        if original is None:
            return self._js_hook(hook, event_name, lambda s, *a, **k: None, args, kwargs)
        return self._js_hook(hook, event_name, original, args, kwargs)

    method.__name__ = hook
    return method


for _hook, _event in HOOKS.items():
    setattr(CallbackModule, _hook, _make_hook(_hook, _event))
