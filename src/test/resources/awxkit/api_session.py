"""awxkit's Python API against a jobstream node, as AwxkitIT runs it: a session login (Api().load_session()),
v2.jobs.get(id=...), job.related.job_events, job.summary_fields, a launch, job.cancel(), and awxkit's WSClient with
its default session cookie name (awx_sessionid). Prints one JSON object of what it saw.

    python api_session.py http://127.0.0.1:PORT USER PASSWORD
"""
import json
import sys
import time
from urllib.parse import urlparse

from awxkit import api, config, utils
from awxkit.ws import WSClient

host, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
config.base_url = host
config.credentials = utils.PseudoNamespace({'default': {'username': user, 'password': password}})
root = api.Api().load_session()
conn = root.connection
v2 = root.get().available_versions.v2.get()
out = {'session_cookie_name': conn.session_cookie_name, 'has_session': bool(conn.session_id)}
out['me'] = v2.me.get().results[0].username

oldest = v2.jobs.get(order_by='id').results[0]
job = v2.jobs.get(id=oldest.id).results[0]
out['job_id'] = job.id
out['job_status'] = job.status
out['summary_fields'] = dict(job.summary_fields)
out['event_counters'] = [e.counter for e in job.related.job_events.get(page_size=200).results]

# a running job, watched with WSClient and canceled through awxkit
launched = v2.jobs.post({'playbook': 'slow.yml', 'extra_vars': {'steps': 60}})
jid = launched.id
url = urlparse(host)
ws = WSClient(hostname=url.hostname, port=url.port, secure=False,
              session_id=conn.session_id, csrftoken=conn.session.cookies.get('csrftoken'))
# awxkit pins websocket-client 0.57, whose callbacks get no app argument; Debian's 1.x passes the app first
ws.ws.on_open = lambda app: ws._on_open()
ws.ws.on_message = lambda app, message: ws._on_message(message)
ws.ws.on_error = lambda app, error: ws._on_error(error)
ws.ws.on_close = lambda app, *args: ws._on_close()
ws.connect()
ws.job_details(jid)

messages = []
def drain(until, stop):
    while time.time() < until:
        m = ws._recv(wait=True, timeout=0.5)
        if m is not None:
            messages.append(m)
        if stop():
            return

deadline = time.time() + 120
# cancel once the job has printed something: the run is under way
drain(deadline, lambda: any(m.get('group_name') == 'job_events' and m.get('job') == jid for m in messages))
running = v2.jobs.get(id=jid).results[0]
out['can_cancel'] = running.related.cancel.get().can_cancel
running.cancel()
while time.time() < deadline and running.get().status not in ('canceled', 'failed', 'error', 'successful'):
    time.sleep(0.5)
out['canceled_status'] = running.get().status
drain(deadline, lambda: any(m.get('group_name') == 'jobs' and m.get('status') == 'canceled' for m in messages))
ws.close()

out['ws_accept'] = any(m.get('accept') is True for m in messages)
out['ws_groups'] = [m.get('groups_current') for m in messages if 'groups_current' in m]
out['ws_event_counters'] = [m['counter'] for m in messages if m.get('group_name') == 'job_events' and m.get('job') == jid]
out['ws_statuses'] = [m.get('status') for m in messages if m.get('group_name') == 'jobs' and m.get('unified_job_id') == jid]
out['canceled_job'] = jid
print(json.dumps(out))
