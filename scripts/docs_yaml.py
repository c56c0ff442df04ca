"""Parse every module's DOCUMENTATION, EXAMPLES and RETURN with PyYAML, as Ansible does.

Go's YAML reader (used by the Go tests that compare options with the docs) accepts some
text that PyYAML refuses, e.g. ': ' inside a plain scalar; ansible-doc and Galaxy would
then fail. This runs in seconds, so `make test` catches it before the slow sanity step.
Exit status 1 and one line per broken block when any block is not YAML.
"""
import ast
import pathlib
import sys

import yaml

BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def broken_blocks(path):
    """Yield 'path: NAME: error' for each doc block of a module file that is not YAML."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if not isinstance(node, ast.Assign) or not isinstance(node.targets[0], ast.Name):
            continue
        name = node.targets[0].id
        if name not in BLOCKS:
            continue
        try:
            yaml.safe_load(node.value.value)
        except yaml.YAMLError as err:
            yield f"{path}: {name}: not YAML: {' '.join(str(err).split())}"


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    errors = [e for p in sorted(root.glob("plugins/modules/*.py")) for e in broken_blocks(p)]
    for err in errors:
        print(err, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
