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
  remote_tmp). A missing or corrupt copy is replaced by a fresh one.

A task whose binary is there costs one remote command: a shell snippet that
finds the platform (unless facts gave it), checks the cached copy and runs it
with the module's args on its standard input (as pipelining sends a Python
module), with no temporary directory, no args file and no clean-up. The task
falls back to Ansible's own binary-module path (temporary directory, args file,
chmod, run, remove), with the cached copy linked into it, when that snippet
finds no good copy (then the binary is sent and stored), when become is on
(sudo may need a tty, which standard input rules out; become's temporary files
need Ansible's permission fix-ups), for async tasks (async_wrapper runs the
module from a file), when the connection cannot send standard input, and with
ANSIBLE_KEEP_REMOTE_FILES.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import posixpath
import re
import shlex
import tempfile
import uuid

from ansible import constants as C
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys
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
# A remote user name that may follow ~ unquoted in a shell word.
_PLAIN_USER = re.compile(r"^[A-Za-z0-9._-]*$")

# What the shell snippets print.
_CACHED = "IMAGEOPS_CACHED"
_SEND = "IMAGEOPS_SEND"
_NO_CACHE = "IMAGEOPS_NO_CACHE"
_RAN = "IMAGEOPS_RAN"

# Defines verified HASH (is the copy $d/imageops-HASH good to run? its path is
# left in $f) and stamp HASH (the same check for $f, which then records it;
# stamp "" records $f without checking: its caller has just hashed it).
# The cache directory must be the remote user's own, mode 0700, not a link:
# nobody else can add, replace or change a file in it. A copy is stored only
# after its SHA-256 was checked (_STORE), and then stamp records in $f.ok its
# mode, inode, size and mtime (to the nanosecond). verified accepts a copy
# whose record still matches: it is the checked file, unchanged, since
# replacing it changes the inode, and writing to it, truncating it or copying
# over it changes the mtime (and usually the size). Hashing 11 MB on every
# task would prove nothing more: only this user (or root) can write there,
# and either could as well rewrite a copy and its hash together; what the
# record cannot see (a disk returning other bytes under the same inode) would
# as well strike any installed program. When the record does not match (no
# stamp yet, a copy touched, chmod-ed or changed), the copy is hashed, and
# used and stamped again only when the hash is right. Rewriting the stamp on
# each use also dates the copy's last use, for the clean-up in _STORE.
_VERIFIED = """umask 077; d=%(dir)s; nl='
'
stamp() {
  [ -d "$d" ] && [ ! -L "$d" ] && [ -O "$d" ] && [ -f "$f" ] && [ ! -L "$f" ] || return 1
  r=$(stat -c '%%a %%i %%s %%y' -- "$d" "$f" 2>/dev/null) || return 1
  case $r in "700 "*"$nl"*) ;; *) return 1 ;; esac
  r=${r#*"$nl"}
  [ -z "$1" ] || { [ -f "$f.ok" ] && read -r stamped <"$f.ok" && [ "$r" = "$stamped" ]; } ||
    { sum=$(sha256sum "$f" 2>/dev/null) && [ "${sum%%%% *}" = "$1" ]; } || return 1
  printf '%%s\\n' "$r" >"$f.ok"
}
verified() { f="$d/imageops-$1"; stamp "$1"; }
"""

# Runs the cached copy of the binary for the host's platform with the args
# file on standard input, first saying on standard error (_RAN, then the
# host's `uname -sm` when the snippet asked it) which one; or, when there is no
# good copy, prints _SEND and that `uname -sm`. The platform's hash is given
# (%(hash)s, from facts), or picked by %(pick)s from `uname -sm`.
_RUN_CACHED = _VERIFIED + """p=%(uname)s; h=%(hash)s
%(pick)s
if [ -n "$h" ] && verified "$h"; then echo %(ran)s "$p" >&2; %(env)s"$f" /dev/stdin; else echo %(send)s "$p"; fi"""

# Links the cached copy into the task's directory ($dest) when it is verified;
# says whether the binary must be sent. The directory must be the remote
# user's own (not a link, not someone else's /tmp directory), and stat and
# sha256sum must exist (GNU coreutils and busybox both have them).
_LOOKUP = _VERIFIED + """dest=%(dest)s
mkdir -p "$d" 2>/dev/null
if ! command -v sha256sum >/dev/null 2>&1 || ! command -v stat >/dev/null 2>&1 \\
  || [ ! -d "$d" ] || [ -L "$d" ] || [ ! -O "$d" ]; then echo %(no_cache)s
elif verified %(hash)s && { ln -f "$f" "$dest" 2>/dev/null || cp "$f" "$dest"; }; then echo %(cached)s
else echo %(send)s; fi"""

# Stores the binary sent to $t as $f when its hash is right, stamps it (see
# _VERIFIED), links it into the task's directory and removes binaries nobody
# has used for a while (by their stamp's date, or their own when unstamped)
# and incoming files a killed run left.
_STORE = _VERIFIED + """f="$d/imageops-%(hash)s"; t=%(incoming)s; dest=%(dest)s
sum=$(sha256sum "$t")
if [ "${sum%%%% *}" = %(hash)s ] && chmod 0700 "$t" && mv -f "$t" "$f" && stamp "" \\
  && { ln -f "$f" "$dest" 2>/dev/null || cp "$f" "$dest"; }; then
  for old in "$d"/imageops-*; do
    case $old in *.ok | "$f") continue ;; esac
    used=$old; [ -f "$old.ok" ] && used=$old.ok
    [ -n "$(find "$used" -mtime +%(keep)d 2>/dev/null)" ] && rm -f "$old" "$old.ok"
  done
  find "$d" -maxdepth 1 -name '.incoming-*' -mmin +60 -exec rm -f {} + 2>/dev/null
  echo %(cached)s
else rm -f "$t"; echo %(send)s; fi"""

# The shell's exit code for a file it cannot execute, and what it means for the binary.
_NOT_EXECUTABLE = 126
_NOT_EXECUTABLE_MSG = (
    "%s could not be executed on %s (exit code 126): either the target's remote_tmp is on a filesystem "
    "mounted noexec (set remote_tmp, e.g. ansible_remote_tmp, to a directory where programs may run), "
    "or the host is not %s %s as its platform was found (%s). The shell said: %s")


def file_sha256(path):
    """Return the hex SHA-256 of the file at path, computed once per version of the file and run.

    Each task runs in a worker process forked for it, so a dictionary would
    forget the hash after the task. The hash is kept instead in a file of
    ansible-playbook's own local temporary directory (DEFAULT_LOCAL_TMP, made
    0700 by the parent process for this run and removed at its end), named
    after the file's path, inode, size and mtime: a rebuilt binary gets a new
    entry.
    """
    stat = os.stat(path)
    key = "%s\0%d\0%d\0%d" % (os.path.realpath(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    local_tmp = getattr(C, "DEFAULT_LOCAL_TMP", None)
    record = None
    if local_tmp and os.path.isdir(local_tmp):
        record = os.path.join(local_tmp, "imageops.cloud-sha256-" + hashlib.sha256(key.encode()).hexdigest()[:32])
        try:
            with open(record) as stored:
                digest = stored.read().strip()
            if len(digest) == 64:
                return digest
        except OSError:
            pass
    digest = hashlib.sha256()
    with open(path, "rb") as binary:
        for chunk in iter(lambda: binary.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    digest = digest.hexdigest()
    if record:
        try:
            handle, partial = tempfile.mkstemp(dir=local_tmp, prefix=".imageops.cloud-sha256-")
            with os.fdopen(handle, "w") as written:
                written.write(digest)
            os.replace(partial, record)
        except OSError:
            pass
    return digest


def _any_case(word):
    """A shell pattern that matches word in any letter case: "Linux" -> "[Ll][Ii][Nn][Uu][Xx]"."""
    return "".join("[%s%s]" % (c.upper(), c.lower()) if c.isalpha() else shlex.quote(c) for c in word)


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
        system, machine, source = self._platform_from_facts(task_vars)
        if self._runs_in_one_command():
            done, platform = self._run_cached(system, machine, task_vars)
            if done is not None:
                return merge_hash(result, done)
            system, machine, source = platform or (system, machine, source)
        if source is None:
            system, machine, source = self._platform_from_uname()
        binary, missing = self._binary_for(system, machine, source, task_vars)
        if missing:
            result.update(failed=True, msg=missing)
            return result
        self._binary_path = os.path.realpath(self._binary_file(binary))
        display.vvv("%s: %s is %s %s (%s): running %s"
                    % (self._module_fqcn, self._runs_on(task_vars), system, machine, source, binary))

        result = merge_hash(result, self._execute_module(module_name=binary, module_args=self._task.args,
                                                         task_vars=task_vars, wrap_async=wrap_async))
        self._explain_not_executable(result, binary, system, machine, source, task_vars)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _binary_for(self, system, machine, source, task_vars):
        """Return (binary plugin name, None), or (None, message) when no binary is built for the platform."""
        goos, goarch = _SYSTEMS.get(system.lower()), _ARCHITECTURES.get(machine.lower())
        binary = _BINARY % (goos, goarch)
        if goos is None or goarch is None or not self._shared_loader_obj.module_loader.has_plugin(binary):
            return None, ("%s has no build for the platform of %s: %s %s (%s); builds exist for %s. "
                          "Run `make build` in the collection if you are using a checkout."
                          % (self._module_fqcn, self._runs_on(task_vars), system, machine, source, _BUILT))
        return binary, None

    def _binary_file(self, binary):
        """The path of a binary plugin on the controller, as Ansible names it (links not resolved)."""
        return self._shared_loader_obj.module_loader.find_plugin(binary)

    def _explain_not_executable(self, result, binary, system, machine, source, task_vars):
        """Say why the shell could not execute the binary (exit code 126), in the result's msg."""
        if result.get("failed") and result.get("rc") == _NOT_EXECUTABLE:
            result["msg"] = _NOT_EXECUTABLE_MSG % (binary, self._runs_on(task_vars), system, machine, source,
                                                   result.get("module_stderr", "").strip())

    def _runs_on(self, task_vars):
        """Name the host the module runs on, for messages."""
        if self._task.delegate_to:
            return "the delegated host %s" % self._task.delegate_to
        return "host %s" % task_vars.get("inventory_hostname", "?")

    def _platform_from_facts(self, task_vars):
        """Return (system, machine, source) from the facts of the host the module runs on, or (None, None, None)."""
        facts = self._facts_of_executing_host(task_vars)
        if facts.get("system") and facts.get("architecture"):
            return facts["system"], facts["architecture"], "from its facts"
        return None, None, None

    def _platform_from_uname(self):
        """Return (system, machine, source) of the host the module runs on, e.g. ("Linux", "x86_64", "from uname -sm")."""
        probe = self._low_level_execute_command("uname -sm", sudoable=False)
        return self._parse_uname(probe.get("stdout", "") if probe.get("rc") == 0 else None,
                                 probe.get("stderr", "").strip() or probe.get("rc"))

    @staticmethod
    def _parse_uname(output, failure):
        """Turn `uname -sm` output into (system, machine, source)."""
        words = (output or "").split()
        if len(words) != 2:
            return "unknown", "unknown", "uname -sm failed: %s" % (failure or repr(output))
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

    # --- one command: the cached copy, args on standard input ---------------------------------

    def _runs_in_one_command(self):
        """Whether the task may run as one command with the args on standard input.

        The same conditions as Ansible's own pipelining, less the setting (it is
        off by default for sudo's requiretty, which does not apply without
        become): the connection can send standard input, the task is not async,
        become is off and remote files are not to be kept.
        """
        return (self._connection.has_pipelining and not self._task.async_val
                and not getattr(self._connection, "become", None) and not self._play_context.become
                and not C.DEFAULT_KEEP_REMOTE_FILES)

    def _cache_dir_word(self):
        """The cache directory as a shell word: remote_tmp (its ~ expanded by the remote shell, as
        Ansible's `echo ~user` does) joined with _CACHE_DIR; None when it cannot be written safely."""
        remote_tmp = self.get_shell_option("remote_tmp", default="~/.ansible/tmp")
        if "$" in remote_tmp and not remote_tmp.startswith("~"):
            # Ansible makes the task's directory with `mkdir -p "`echo REMOTE_TMP`"`, so that
            # $HOME/.ansible/tmp names the remote user's own: the variables are expanded here too.
            quoted = "".join("\\" + c if c in '"\\`' else c for c in remote_tmp)
            return '"%s"/%s' % (quoted, shlex.quote(_CACHE_DIR))
        if not remote_tmp.startswith("~"):
            return shlex.quote(posixpath.join(remote_tmp, _CACHE_DIR))
        home, rest = (remote_tmp.split("/", 1) + [""])[:2]
        if home == "~":
            home = "~%s" % (self._get_remote_user() or "")
        if not _PLAIN_USER.match(home[1:]):
            return None
        return "%s/%s" % (home, shlex.quote(posixpath.join(rest, _CACHE_DIR)))

    def _platform_cases(self):
        """A shell case statement that sets $h to the hash of the binary built for `uname -sm` ($p)."""
        arms = []
        for system, goos in _SYSTEMS.items():
            for machine, goarch in _ARCHITECTURES.items():
                binary = _BINARY % (goos, goarch)
                if self._shared_loader_obj.module_loader.has_plugin(binary):
                    arms.append("  %s\\ %s) h=%s ;;" % (_any_case(system), _any_case(machine),
                                                        file_sha256(self._binary_file(binary))))
        return "case $p in\n%s\nesac" % "\n".join(arms)

    def _run_cached(self, system, machine, task_vars):
        """Run the module from the target's cached copy in one command.

        Returns (result, None) when it ran; (None, platform) when the target has
        no good copy (platform: (system, machine, source) from the target's
        uname, or None when facts gave it) or when the cache directory is not
        one this can name.
        """
        cache_dir = self._cache_dir_word()
        if cache_dir is None:
            return None, None
        words = {"dir": cache_dir, "send": _SEND, "ran": _RAN, "uname": '""', "hash": '""', "pick": ""}
        if system is not None:
            binary, missing = self._binary_for(system, machine, "from its facts", task_vars)
            if missing:
                return {"failed": True, "msg": missing}, None
            binary_path = self._binary_file(binary)
            words["hash"] = file_sha256(binary_path)
        else:
            binary_path = None
            words.update(uname='"$(uname -sm)"', pick=self._platform_cases())
        module_args = dict(self._task.args)
        # The name of a binary; _update_module_args names the module itself in the args.
        self._update_module_args(_BINARY % ("linux", "amd64"), module_args, task_vars)
        env = self._compute_environment_string()
        words["env"] = env + " " if env else ""
        res = self._low_level_execute_command("/bin/sh -c %s" % shlex.quote(_RUN_CACHED % words), sudoable=False,
                                              in_data=to_bytes(json.dumps(module_args)))
        stdout = res.get("stdout", "")
        if res.get("rc") == 0 and stdout.startswith(_SEND):
            uname = stdout[len(_SEND):].strip()
            display.vvv("%s: no good copy of the binary in the target's cache; it is sent" % self._module_fqcn)
            return None, (self._parse_uname(uname, "no output") if uname else None)
        source = "from its facts"
        first, rest = (res.get("stderr", "").split("\n", 1) + [""])[:2]
        if first.startswith(_RAN):
            res["stderr"] = rest
            if binary_path is None:
                system, machine, source = self._parse_uname(first[len(_RAN):], "no output")
        binary, missing = self._binary_for(system or "unknown", machine or "unknown", source, task_vars)
        if binary_path is None and not missing:
            binary_path = self._binary_file(binary)
        display.vvv("%s: %s is %s %s (%s): running %s, the target's copy (one command, args on standard input)"
                    % (self._module_fqcn, self._runs_on(task_vars), system, machine, source, binary))
        display.vvv("Using module file %s" % binary_path)
        data = self._module_result(res)
        self._explain_not_executable(data, binary, system, machine, source, task_vars)
        return data, None

    def _module_result(self, res):
        """Turn the module's output into its result, as ActionBase._execute_module does."""
        data = self._parse_returned_data(res)
        data.pop("_ansible_suppress_tmpdir_delete", None)
        if "results" in data and not isinstance(data["results"], list):
            data["ansible_module_results"] = data.pop("results")
            display.warning("Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
        remove_internal_keys(data)
        for stream in ("stdout", "stderr"):
            if stream in data and stream + "_lines" not in data:
                data[stream + "_lines"] = (data.get(stream) or "").splitlines()
        return data

    # --- Ansible's binary-module path, with the cached copy -----------------------------------

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
            "hash": digest, "cached": _CACHED, "send": _SEND, "no_cache": _NO_CACHE, "keep": _CACHE_KEEP_DAYS,
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
