"""The messages between the engine client and the worker: JSON, one per line.

Commands (client -> worker):
  {"cmd": "run", "job": ID, "project": {project dict}, "targets": [node ids] | null,
   "output_dir": DIR, "project_dir": DIR, "project_name": NAME, "name_fields": {...}}
  {"cmd": "cancel", "job": ID}
  {"cmd": "ping", "id": N}
  {"cmd": "shutdown"}

Events (worker -> client), each with "event" and, for job events, "job":
  ready          {pid, models, cache_dir, protocol}
  job_started    {nodes: [ids in run order], targets}
  node_started   {node, type, key}
  progress       {node, step, total, preview?: base64 JPEG}
  node_finished  {node, cached, key, outputs: [saved files], results: {socket: {kind, files, ...}},
                  stats: {seconds, peak_memory_bytes, nfe?}}
  node_failed    {node, kind: "error" | "skipped" | "cancelled" | "worker_died", error, traceback?}
  job_finished   {status: "ok" | "failed" | "cancelled", failed: {node: message}, outputs, seconds}
  pong           {id}
  error          {error}   (a command the worker could not read)

Large data never travels here: results are files in the cache folder, and
events carry their paths. Only previews are inlined, as small JPEGs.
"""

VERSION = 1

JOB_EVENTS = frozenset({"job_started", "node_started", "progress", "node_finished", "node_failed",
                        "job_finished"})
