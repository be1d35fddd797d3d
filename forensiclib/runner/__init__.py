"""The runner: notebooks executed under a profile, their records, the manifest and the reviewer's report.

- `reproduce`: the papermill runner (profiles, parameter checks, time limits, incremental re-runs);
- `session`: what a notebook calls first; it saves figures, tables, numbers and claims (`session.json`);
- `manifest`: `results/<profile>/manifest.json` (parameters, seeds, timings, versions, output hashes);
- `report`: `REPORT.md`, `.html` and `report.json` from the manifest and the sessions;
- `exercises`: teachers' parameter tweaks;
- `cli`: `python -m forensiclib ...`.
"""
