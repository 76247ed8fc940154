"""Post-processing of a backend's generated OpenAPI document: the error shapes every operation
shares. List "strangler.service.openapi.add_error_responses" in SPECTACULAR_SETTINGS'
POSTPROCESSING_HOOKS.
"""

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        '{"detail": "..."} for non-field errors (plus "code" and related fields where clients '
        'branch on them), or {"<field>": ["..."]} for validation errors.'
    ),
    "additionalProperties": True,
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {
        "description": "Client error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            operation.setdefault("responses", {}).setdefault("4XX", error)
    return result
