"""Every example in openapi/openapi.json (request bodies, schemas and their members) is valid
against the schema it illustrates, formats included: an integrator copying one gets a body
the contract takes.

    python tests/spec/examples.py openapi/openapi.json   (needs jsonschema and referencing)
"""
import json
import sys

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def pointer(*parts):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def examples(document):
    """(where, schema pointer, example) for every example the document gives."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, body in content.items():
                where = pointer("paths", path, method, "requestBody", "content", media_type)
                if "example" in body:
                    yield f"{method.upper()} {path}", where + "/schema", body["example"]
    def walk(schema, where):
        if not isinstance(schema, dict):
            return
        if "example" in schema:
            yield where, where, schema["example"]
        for name, member in schema.get("properties", {}).items():
            yield from walk(member, f"{where}/properties/{pointer(name)[1:]}")
        for keyword in ("allOf", "oneOf", "anyOf"):
            for at, part in enumerate(schema.get(keyword, [])):
                yield from walk(part, f"{where}/{keyword}/{at}")
        if isinstance(schema.get("items"), dict):
            yield from walk(schema["items"], f"{where}/items")
    for name, schema in document["components"]["schemas"].items():
        yield from walk(schema, pointer("components", "schemas", name))


def main(spec_path):
    document = json.load(open(spec_path))
    document["$id"] = "urn:credo:openapi"
    registry = Registry().with_resource(
        document["$id"], Resource.from_contents(document, default_specification=DRAFT202012)
    )
    failures = 0
    checked = 0
    for where, schema_pointer, example in examples(document):
        validator = Draft202012Validator(
            {"$ref": f"{document['$id']}#{schema_pointer}"},
            registry=registry,
            format_checker=FormatChecker(),
        )
        checked += 1
        for error in validator.iter_errors(example):
            failures += 1
            print(f"{where}: {error.message} (at {list(error.absolute_path)})")
    print(f"{checked} examples checked, {failures} invalid")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
