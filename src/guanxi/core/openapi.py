"""Every API operation documents the errors it can answer (C8, issue #12 item 12).

All errors share one JSON shape, `Error` (`code`, `message`, `field`, optional `errors`),
produced by the handlers in guanxi/api.py; this adds that shape under each status to every
operation of the OpenAPI document, so clients and fuzzers (the schemathesis run in .ci/run)
can rely on it.
"""

from ninja import NinjaAPI

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message", "field"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable reason."},
        "message": {"type": "string", "description": "For people, in the caller's language."},
        "field": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "The input field at fault, if one is.",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
ERRORS = {
    400: "Malformed request.",
    401: "Authentication required (token or session).",
    403: "Authenticated, but not allowed to do this.",
    404: "No such record among those you may see.",
    405: "Method not allowed.",
    409: "Conflicts with the record's state (e.g. already taken, wrong stage).",
    413: "Request body too large.",
    422: "Invalid input; `field` names it.",
    429: "Too many requests.",
}


class GuanxiAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                for status, description in ERRORS.items():
                    operation["responses"].setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": ref}},
                        },
                    )
        return schema
