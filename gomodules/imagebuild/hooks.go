package imagebuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// stageMarker starts the line each hook script prints first; the build
// relays it, and mmdebstrap's own "I: " lines, as progress.
const stageMarker = "image_build stage: "

// hookStage is one customize hook: the script's body, run by sh with
// "$root" the image's root folder (and /dev, /proc, /sys mounted there by
// mmdebstrap, with services kept from starting).
type hookStage struct{ name, body string }

// mmdebstrapArgs are mmdebstrap's arguments: the packages, then the
// customize hooks in image-builder's order (custom roles pre, repositories
// and extra packages, additional components, custom roles post, sysprep,
// custom roles post-sysprep),
// then the release, the root folder and the mirror.
func (b *builder) mmdebstrapArgs() ([]string, error) {
	include := append(append([]string{}, BasePackages...), b.cfg.Packages...)
	if b.cfg.needsContainerd() {
		include = append(include, containerdPackage)
	}
	args := []string{"--variant=minbase", "--components=main", "--include=" + strings.Join(include, ",")}
	stages, err := b.hookStages()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.work, "hooks")
	if len(stages) > 0 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating %q: %w", dir, err)
		}
	}
	for i, s := range stages {
		script := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, s.name))
		text := fmt.Sprintf("#!/bin/sh\nset -eu\nroot=$1\necho %s\n%s", shellQuote(stageMarker+s.name), s.body)
		if err := os.WriteFile(script, []byte(text), 0o700); err != nil {
			return nil, fmt.Errorf("writing hook %q: %w", script, err)
		}
		args = append(args, "--customize-hook="+script)
	}
	return append(args, b.cfg.Release, b.root, b.cfg.Mirror), nil
}

func (b *builder) hookStages() ([]hookStage, error) {
	pre, err := b.rolesHook("node_custom_roles_pre", b.cfg.NodeCustomRolesPre)
	if err != nil {
		return nil, err
	}
	post, err := b.rolesHook("node_custom_roles_post", b.cfg.PostRoles())
	if err != nil {
		return nil, err
	}
	postSysprep, err := b.rolesHook("node_custom_roles_post_sysprep", b.cfg.NodeCustomRolesPostSysprep)
	if err != nil {
		return nil, err
	}
	var repos, components string
	if b.cfg.setsUpRepos() {
		repos = b.cfg.Repos.setupScript()
	}
	if b.fetchesComponents() {
		components = fmt.Sprintf("tar -C %s -cf - . | tar -C \"$root\" -xf - --keep-directory-symlink\n", shellQuote(b.componentsDir()))
	}
	var stages []hookStage
	for _, s := range []hookStage{{"node_custom_roles_pre", pre}, {"repos", repos}, {"components", components},
		{"node_custom_roles_post", post}, {"sysprep", b.cfg.Repos.sysprepScript()}, {"node_custom_roles_post_sysprep", postSysprep}} {
		if s.body != "" {
			stages = append(stages, s)
		}
	}
	return stages, nil
}

// commandWithProgress runs a tool as command does, relaying the lines of
// its output that say where it is as progress.
func (b *builder) commandWithProgress(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = b.environment(), b.work
	out := &progressLines{relay: func(line string) {
		switch {
		case strings.HasPrefix(line, stageMarker):
			b.progress("%s: %s", b.stageName, strings.TrimPrefix(line, stageMarker))
		case strings.HasPrefix(line, "I: running --customize-hook"): // the stage marker follows
		case strings.HasPrefix(line, "I: "):
			b.progress("%s: %s: %s", b.stageName, name, strings.TrimPrefix(line, "I: "))
		}
	}}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("running %s: %w: %s", name, err, tail(out.String(), 4000))
	}
	return out.String(), nil
}

// progressLines keeps a tool's output and calls relay with each line.
type progressLines struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	relay   func(string)
}

func (p *progressLines) Write(data []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all.Write(data)
	p.partial = append(p.partial, data...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			return len(data), nil
		}
		p.relay(string(p.partial[:i]))
		p.partial = p.partial[i+1:]
	}
}

func (p *progressLines) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.all.String()
}
