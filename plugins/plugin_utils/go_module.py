# -*- coding: utf-8 -*-
# Copyright: imageops.cloud contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module of the collection's multi-call Go binary on the host it runs on.

Every module of this collection is part of one static Go binary, built once per
platform as plugins/modules/imageops_<os>_<arch> (for example
imageops_linux_amd64); plugins/modules/<module>.py holds only the documentation.
Each module's action plugin is GoModuleAction. It:

- finds the OS and CPU of the host the module runs on: the delegated host when
  the task has delegate_to, else the inventory host; from that host's gathered
  (or cached) facts, or else with one `uname -sm` over its connection;
- runs the matching binary as an ordinary Ansible binary module, with the
  module's name in the args file (_ansible_module_name), so that check mode,
  diff, no_log and become behave as for any module;
- keeps one copy of each binary on the target, named by its SHA-256, in
  imageops.cloud-cache beside the task's temporary directory (under
  remote_tmp). A task whose binary is there, with the right hash, sends none of
  it: the copy is linked into the task's temporary directory. A missing or
  corrupt copy is replaced by a fresh one.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import posixpath
import shlex
import uuid

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

# uname's and Ansible facts' names for the CPUs we build for, mapped to Go's GOARCH.
_ARCHITECTURES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
}
_SYSTEMS = {"linux": "linux"}
_BUILT = "linux/amd64, linux/arm64"
_BINARY = "imageops.cloud.imageops_%s_%s"
# The directory, beside the task's temporary directory, that keeps the binaries.
_CACHE_DIR = "imageops.cloud-cache"
# Cached binaries not used for this many days are removed when another is stored.
_CACHE_KEEP_DAYS = 7
_HASH_CHUNK = 1 << 20

# What the shell snippets print.
_CACHED = "IMAGEOPS_CACHED"
_SEND = "IMAGEOPS_SEND"
_NO_CACHE = "IMAGEOPS_NO_CACHE"

# Links the cached copy $f into the task's directory ($dest) when its hash is
# right; says whether the binary must be sent. The directory must be the
# remote user's own (not a link, not someone else's /tmp directory), and
# sha256sum must exist (GNU coreutils and busybox both have it).
_LOOKUP = """umask 077; d=%(dir)s; f="$d/%(name)s"; dest=%(dest)s
mkdir -p "$d" 2>/dev/null
if ! command -v sha256sum >/dev/null 2>&1 || [ ! -d "$d" ] || [ -L "$d" ] || [ ! -O "$d" ]; then echo %(no_cache)s
elif [ -f "$f" ] && [ ! -L "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = %(hash)s ] \\
  && { ln -f "$f" "$dest" 2>/dev/null || cp "$f" "$dest"; }; then touch "$f"; echo %(cached)s
else echo %(send)s; fi"""

# Stores the binary sent to $t as $f when its hash is right, links it into the
# task's directory and removes binaries nobody has used for a while.
_STORE = """umask 077; d=%(dir)s; f="$d/%(name)s"; t=%(incoming)s; dest=%(dest)s
if [ "$(sha256sum "$t" | cut -d' ' -f1)" = %(hash)s ] && chmod 0700 "$t" && mv -f "$t" "$f" \\
  && { ln -f "$f" "$dest" 2>/dev/null || cp "$f" "$dest"; }; then
  find "$d" -maxdepth 1 -type f -name "imageops-*" -mtime +%(keep)d -exec rm -f {} + 2>/dev/null
  echo %(cached)s
else rm -f "$t"; echo %(send)s; fi"""

# The shell's exit code for a file it cannot execute, and what it means for the binary.
_NOT_EXECUTABLE = 126
_NOT_EXECUTABLE_MSG = (
    "%s could not be executed on %s (exit code 126): either the target's remote_tmp is on a filesystem "
    "mounted noexec (set remote_tmp, e.g. ansible_remote_tmp, to a directory where programs may run), "
    "or the host is not %s %s as its platform was found (%s). The shell said: %s")

# The controller's hash of each binary, by (path, size, mtime).
_HASHES = {}


def file_sha256(path):
    """Return the hex SHA-256 of the file at path, computed once per version of the file."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as binary:
            for chunk in iter(lambda: binary.read(_HASH_CHUNK), b""):
                digest.update(chunk)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


class GoModuleAction(ActionBase):
    """Dispatch a task to the module binary built for the platform of the host it runs on."""

    _module_fqcn = None
    _binary_path = None

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = True
        result = super(GoModuleAction, self).run(tmp, task_vars)
        del tmp
        if result.get("skipped"):
            return result

        task_vars = task_vars or {}
        wrap_async = self._task.async_val and not self._connection.has_native_async
        self._module_fqcn = getattr(self._task, "resolved_action", None) or self._task.action
        system, machine, source = self._target_platform(task_vars)
        goos, goarch = _SYSTEMS.get(system.lower()), _ARCHITECTURES.get(machine.lower())
        binary = _BINARY % (goos, goarch)
        loader = self._shared_loader_obj.module_loader
        if goos is None or goarch is None or not loader.has_plugin(binary):
            result.update(failed=True, msg="%s has no build for the platform of %s: %s %s (%s); builds exist for %s. "
                          "Run `make build` in the collection if you are using a checkout."
                          % (self._module_fqcn, self._runs_on(task_vars), system, machine, source, _BUILT))
            return result
        self._binary_path = os.path.realpath(loader.find_plugin(binary))
        display.vvv("%s: %s is %s %s (%s): running %s"
                    % (self._module_fqcn, self._runs_on(task_vars), system, machine, source, binary))

        result = merge_hash(result, self._execute_module(module_name=binary, module_args=self._task.args,
                                                         task_vars=task_vars, wrap_async=wrap_async))
        if result.get("failed") and result.get("rc") == _NOT_EXECUTABLE:
            result["msg"] = _NOT_EXECUTABLE_MSG % (binary, self._runs_on(task_vars), system, machine, source,
                                                   result.get("module_stderr", "").strip())
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _runs_on(self, task_vars):
        """Name the host the module runs on, for messages."""
        if self._task.delegate_to:
            return "the delegated host %s" % self._task.delegate_to
        return "host %s" % task_vars.get("inventory_hostname", "?")

    def _target_platform(self, task_vars):
        """Return (system, machine, source) of the host the module runs on, e.g. ("Linux", "x86_64", "facts")."""
        facts = self._facts_of_executing_host(task_vars)
        if facts.get("system") and facts.get("architecture"):
            return facts["system"], facts["architecture"], "from its facts"
        probe = self._low_level_execute_command("uname -sm", sudoable=False)
        words = probe.get("stdout", "").split()
        if probe.get("rc") != 0 or len(words) != 2:
            return "unknown", "unknown", "uname -sm failed: %s" % (probe.get("stderr", "").strip() or probe.get("rc"))
        return words[0], words[1], "from uname -sm"

    def _facts_of_executing_host(self, task_vars):
        """The facts of the host the module runs on; never the inventory host's when the task is delegated."""
        delegate = self._task.delegate_to
        if not delegate:
            return task_vars.get("ansible_facts") or {}
        delegated = (task_vars.get("ansible_delegated_vars") or {}).get(delegate) or {}
        facts = delegated.get("ansible_facts")
        if not facts:
            hostvars = task_vars.get("hostvars") or {}
            facts = (hostvars[delegate] if delegate in hostvars else {}).get("ansible_facts")
        return facts or {}

    def _update_module_args(self, module_name, module_args, task_vars):
        """Name the module, not the binary, in the args file: the multi-call binary dispatches on it."""
        super(GoModuleAction, self)._update_module_args(module_name, module_args, task_vars)
        if self._module_fqcn:
            module_args["_ansible_module_name"] = self._module_fqcn

    def _transfer_file(self, local_path, remote_path):
        """Put the binary at remote_path from the target's own copy, sending it only when that copy is missing or wrong."""
        if self._binary_path is None or os.path.realpath(local_path) != self._binary_path:
            return super(GoModuleAction, self)._transfer_file(local_path, remote_path)
        digest = file_sha256(local_path)
        cache_dir = posixpath.join(posixpath.dirname(self._connection._shell.tmpdir.rstrip("/")), _CACHE_DIR)
        incoming = posixpath.join(cache_dir, ".incoming-%s" % uuid.uuid4().hex)
        words = {
            "dir": shlex.quote(cache_dir), "incoming": shlex.quote(incoming), "dest": shlex.quote(remote_path),
            "name": "imageops-" + digest, "hash": digest,
            "cached": _CACHED, "send": _SEND, "no_cache": _NO_CACHE, "keep": _CACHE_KEEP_DAYS,
        }
        binary = os.path.basename(local_path)
        answer = self._remote_shell(_LOOKUP % words)
        if answer == _CACHED:
            display.vvv("%s: the target's copy of %s (sha256 %s) is used; nothing sent" % (self._module_fqcn, binary, digest))
            return remote_path
        size = os.path.getsize(local_path)
        if answer == _SEND:
            self._connection.put_file(local_path, incoming)
            if self._remote_shell(_STORE % words) == _CACHED:
                display.vvv("%s: sent %s (%d bytes, sha256 %s) and kept it on the target" % (self._module_fqcn, binary, size, digest))
                return remote_path
        display.vvv("%s: the target keeps no copy of %s (%s); sending %d bytes" % (self._module_fqcn, binary, answer or "no answer", size))
        return super(GoModuleAction, self)._transfer_file(local_path, remote_path)

    def _remote_shell(self, script):
        """Run a POSIX shell snippet as the remote user and return the last line it printed."""
        res = self._low_level_execute_command("/bin/sh -c %s" % shlex.quote(script), sudoable=False)
        lines = res.get("stdout", "").strip().splitlines()
        return lines[-1].strip() if res.get("rc") == 0 and lines else ""
