"""Schemathesis hooks for the fuzz test (e2e/tests/fuzz.rs sets SCHEMATHESIS_HOOKS to this file).

Two rules of data/openapi.yaml tie one part of a request to another, which JSON Schema cannot
state, so a request generated as valid is made to follow them before it is sent (a request
generated as invalid is left alone):

- the per-project write paths (`/api/v1/projects/{project_id}/tags`, `.../threads`) take an
  optional `project_id` in the body that must equal the path's;
- a tag edit names no tag in both `add` and `remove` (compared after normalising: trimmed,
  lower-cased, inner whitespace as `-`).
"""

import schemathesis


def _is_positive(case):
    meta = case.meta
    return meta is None or meta.generation.mode.is_positive


def _tag(raw):
    return "-".join(raw.lower().split()) if isinstance(raw, str) else raw


@schemathesis.hook
def before_call(ctx, case, kwargs):
    body = case.body
    if not isinstance(body, dict) or not _is_positive(case):
        return
    project_id = (case.path_parameters or {}).get("project_id")
    if project_id is not None:
        if "project_id" in body:
            body["project_id"] = project_id
        threads = body.get("threads")
        for thread in threads if isinstance(threads, list) else []:
            if isinstance(thread, dict) and "project_id" in thread:
                thread["project_id"] = project_id
    add, remove = body.get("add"), body.get("remove")
    if isinstance(add, list) and isinstance(remove, list):
        added = {_tag(t) for t in add}
        body["remove"] = [t for t in remove if _tag(t) not in added]
