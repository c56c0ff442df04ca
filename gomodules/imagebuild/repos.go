package imagebuild

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Repos are kubernetes-sigs image-builder's apt repository variables, with
// the meanings of its setup role (which disables the public repositories,
// installs the extra ones and the extra packages) and its sysprep role
// (which removes the extra repositories and enables the public ones again).
type Repos struct {
	// ExtraDebs are packages installed after the repositories are set up
	// (apt-get install, after apt-get update and dist-upgrade).
	ExtraDebs []string `json:"extra_debs"`
	// ExtraRepos are files of apt sources (one-line .list or deb822
	// .sources) copied into /etc/apt/sources.list.d under their own names.
	ExtraRepos []string `json:"extra_repos"`
	// DisablePublicRepos renames every *.list and *.sources file in
	// /etc/apt and /etc/apt/sources.list.d to <file>.disabled before the
	// extra repositories are installed. Default false.
	DisablePublicRepos bool `json:"disable_public_repos"`
	// ReenablePublicRepos, with DisablePublicRepos, renames them back at
	// the end of the build. Default true.
	ReenablePublicRepos bool `json:"reenable_public_repos"`
	// RemoveExtraRepos removes the extra repositories' files at the end of
	// the build. Default false.
	RemoveExtraRepos bool `json:"remove_extra_repos"`
}

// aptSourceExtensions are the file names apt reads in sources.list.d.
var aptSourceExtensions = []string{".list", ".sources"}

func (r *Repos) normalize() {
	r.ExtraDebs, r.ExtraRepos = words(r.ExtraDebs), words(r.ExtraRepos)
}

func (r Repos) check(bad badValue) error {
	for _, p := range r.ExtraDebs {
		if !packagePattern.MatchString(p) {
			return bad("extra_debs", p, "expected a Debian package name, optionally with =version")
		}
	}
	seen := map[string]string{}
	for _, file := range r.ExtraRepos {
		if err := checkRepoFile(file); err != "" {
			return bad("extra_repos", file, err)
		}
		if other, ok := seen[filepath.Base(file)]; ok {
			return bad("extra_repos", file, fmt.Sprintf("expected files of distinct names: %q has the same name, and both would be /etc/apt/sources.list.d/%s", other, filepath.Base(file)))
		}
		seen[filepath.Base(file)] = file
	}
	if r.DisablePublicRepos && len(r.ExtraRepos) == 0 && len(r.ExtraDebs) > 0 {
		return bad("extra_debs", strings.Join(r.ExtraDebs, " "),
			"expected extra_repos too: with disable_public_repos and no extra_repos, no apt source is left to install them from")
	}
	return nil
}

// checkRepoFile returns what is wrong with an extra_repos file, or "".
func checkRepoFile(file string) string {
	if !filepath.IsAbs(file) {
		return "expected an absolute path (a module does not run in the playbook's directory)"
	}
	if ext := filepath.Ext(file); ext != aptSourceExtensions[0] && ext != aptSourceExtensions[1] {
		return "expected a file named *.list (one-line sources) or *.sources (deb822), as apt reads in sources.list.d"
	}
	info, err := os.Stat(file)
	if err != nil {
		return fmt.Sprintf("expected a readable file of apt sources: %v", err)
	}
	if !info.Mode().IsRegular() {
		return "expected a regular file of apt sources"
	}
	return ""
}

// setsUpRepos tells whether the build changes the apt sources or installs
// extra packages.
func (r Repos) setsUpRepos() bool {
	return r.DisablePublicRepos || len(r.ExtraRepos) > 0 || len(r.ExtraDebs) > 0
}

// setupScript is image-builder's setup role for Debian as a shell script
// run in the chroot's customize hook ($root): the public sources disabled,
// the extra ones copied in, apt-get update and dist-upgrade, then the extra
// packages installed.
func (r Repos) setupScript() string {
	var s strings.Builder
	if r.DisablePublicRepos {
		s.WriteString(`for f in "$root"/etc/apt/*.list "$root"/etc/apt/*.sources ` +
			`"$root"/etc/apt/sources.list.d/*.list "$root"/etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  echo "image_build: disabling $f"
  mv "$f" "$f.disabled"
done
`)
	}
	for _, file := range r.ExtraRepos {
		fmt.Fprintf(&s, "install -m 0644 %s \"$root\"/etc/apt/sources.list.d/%s\n", shellQuote(file), shellQuote(filepath.Base(file)))
	}
	s.WriteString(`chroot "$root" apt-get -q update
chroot "$root" apt-get -q -y dist-upgrade
`)
	if len(r.ExtraDebs) > 0 {
		fmt.Fprintf(&s, "chroot \"$root\" apt-get -q -y install %s\n", shellWords(r.ExtraDebs))
	}
	return s.String()
}

// sysprepScript is image-builder's sysprep role for the repositories: the
// extra ones removed (remove_extra_repos), the disabled ones enabled again
// (disable_public_repos and reenable_public_repos). image-builder enables
// only *.list.disabled files; here *.sources files disabled by the setup
// are enabled as well.
func (r Repos) sysprepScript() string {
	var s strings.Builder
	if r.RemoveExtraRepos {
		for _, file := range r.ExtraRepos {
			fmt.Fprintf(&s, "rm -f \"$root\"/etc/apt/sources.list.d/%s\n", shellQuote(filepath.Base(file)))
		}
	}
	if r.DisablePublicRepos && r.ReenablePublicRepos {
		s.WriteString(`for f in "$root"/etc/apt/*.list.disabled "$root"/etc/apt/*.sources.disabled ` +
			`"$root"/etc/apt/sources.list.d/*.list.disabled "$root"/etc/apt/sources.list.d/*.sources.disabled; do
  [ -e "$f" ] || continue
  mv "$f" "${f%.disabled}"
done
`)
	}
	return s.String()
}

// words splits each element on white space: image-builder gives lists as
// space- or comma-separated strings (a comma-separated string is already a
// list once Ansible's list type has read it).
func words(list []string) []string {
	var out []string
	for _, item := range list {
		out = append(out, strings.Fields(item)...)
	}
	return out
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shellWords(list []string) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = shellQuote(s)
	}
	return strings.Join(quoted, " ")
}
