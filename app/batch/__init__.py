"""Batch rendering: many variations of one project, rendered by a pool of workers.

The pieces, each with one job:

  sweep.py     ``--sweep NODE.PARAM=...`` and ``--from-csv`` text -> variations
  plan.py      variations + a project -> validated jobs (ids, folders, name fields)
  queue.py     the persistent SQLite queue next to the output (plain Python API:
               the command line and the GUI's queue dock both read it)
  manifest.py  manifest.json / manifest.csv: job -> parameters -> outputs -> status
  local.py     N engine worker processes on this machine (one per GPU or CPU slice)
  ray_runner.py the same worker code as Ray actors on a cluster
  run.py       the coordinator: claims jobs from the queue, runs them on the slots,
               retries, cancels, records
  progress.py  what the user sees: a progress bar, JSON lines, a summary table

Nothing here imports torch or Qt: rendering happens in engine worker processes.
"""
