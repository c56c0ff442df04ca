# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render CHANGELOG.rst from changelogs/changelog.yaml as antsibull-changelog does, and check the changelog.

    python3 scripts/changelog.py          write CHANGELOG.rst
    python3 scripts/changelog.py --check  fail when CHANGELOG.rst is stale, a fragment is malformed, or a
                                  module, role or playbook of the collection is in no release

antsibull-changelog is not packaged in Debian; this keeps its files (changelogs/config.yaml,
changelogs/changelog.yaml, changelogs/fragments/*.yml) and its rendering, so that the tool can
take over: `antsibull-changelog release` folds the fragments into changelog.yaml.
"""
from __future__ import absolute_import, division, print_function

import glob
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMESPACE = "imageops.cloud"
# antsibull-changelog's headings for the objects a release adds, by changelog.yaml key.
NEW_OBJECTS = (("modules", None, "New Modules"), ("objects", "playbook", "New Playbooks"),
               ("objects", "role", "New Roles"))


def load(path):
    with open(os.path.join(ROOT, path)) as stream:
        return yaml.safe_load(stream)


def heading(text, underline, overline=False):
    line = underline * len(text)
    return ([line] if overline else []) + [text, line, ""]


def render(config, changes):
    """Return CHANGELOG.rst's text: one section per release, newest first."""
    lines = heading("%s Release Notes" % config["title"], "=", overline=True) + [".. contents:: Topics", ""]
    versions = sorted(changes.get("releases") or {}, key=lambda v: [int(x) for x in v.split(".")], reverse=True)
    for version in versions:
        release = changes["releases"][version]
        notes = release.get("changes") or {}
        lines += heading("v%s" % version, "=")
        if notes.get(config["prelude_section_name"]):
            lines += heading(config["prelude_section_title"], "-") + [notes[config["prelude_section_name"]], ""]
        for key, title in config["sections"]:
            if notes.get(key):
                lines += heading(title, "-") + ["- %s" % entry for entry in notes[key]] + [""]
        for key, kind, title in NEW_OBJECTS:
            entries = release.get(key) or []
            if kind:
                entries = (entries or {}).get(kind) or []
            if entries:
                lines += heading(title, "-") + ["- %s.%s - %s" % (NAMESPACE, e["name"], e["description"]) for e in entries] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def fragment_problems(config):
    """Return what is wrong with the fragments waiting for the next release."""
    known = set(section[0] for section in config["sections"]) | {config["prelude_section_name"], config["trivial_section_name"]}
    problems = []
    for path in sorted(glob.glob(os.path.join(ROOT, "changelogs", "fragments", "*.y*ml"))):
        name = os.path.relpath(path, ROOT)
        try:
            with open(path) as stream:
                fragment = yaml.safe_load(stream)
        except yaml.YAMLError as err:
            problems.append("%s: not YAML: %s" % (name, err))
            continue
        if not isinstance(fragment, dict) or not fragment:
            problems.append("%s: expected a mapping of sections to lists of changes" % name)
            continue
        for section, entries in fragment.items():
            if section not in known:
                problems.append("%s: unknown section %r; expected one of %s" % (name, section, ", ".join(sorted(known))))
            elif section == config["prelude_section_name"]:
                if not isinstance(entries, str):
                    problems.append("%s: %s must be a string" % (name, section))
            elif not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
                problems.append("%s: %s must be a list of strings" % (name, section))
    return problems


def unlisted_objects(changes):
    """Return the modules, roles and playbooks of the tree that no release of changelog.yaml lists."""
    listed = {"modules": set(), "playbook": set(), "role": set()}
    for release in (changes.get("releases") or {}).values():
        listed["modules"].update(e["name"] for e in release.get("modules") or [])
        for kind in ("playbook", "role"):
            listed[kind].update(e["name"] for e in (release.get("objects") or {}).get(kind) or [])
    present = {
        "modules": [os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))],
        "playbook": [os.path.basename(p)[:-4] for p in glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))],
        "role": [os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")) if os.path.isdir(p)],
    }
    return ["%s %s" % (kind, name) for kind in sorted(present) for name in sorted(present[kind]) if name not in listed[kind]]


def main(argv):
    config = load("changelogs/config.yaml")
    changes = load("changelogs/changelog.yaml")
    text = render(config, changes)
    target = os.path.join(ROOT, "CHANGELOG.rst")
    if "--check" not in argv:
        with open(target, "w") as stream:
            stream.write(text)
        return 0
    problems = fragment_problems(config)
    problems += ["%s is in no release of changelogs/changelog.yaml: add it (name, description) under the version "
                 "in galaxy.yml, then run python3 scripts/changelog.py" % what for what in unlisted_objects(changes)]
    with open(target) as stream:
        if stream.read() != text:
            problems.append("CHANGELOG.rst is not what changelogs/changelog.yaml renders: run python3 scripts/changelog.py")
    for problem in problems:
        print("changelog: %s" % problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
