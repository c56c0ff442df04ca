package imagebuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// inputDigests are the SHA-256 of the local files a build reads besides the
// spec: each extra_repos file and each custom role's directory tree (its
// files' relative paths, modes and contents). They are part of the spec's
// hash, so that a changed role or repository file builds the image again.
func inputDigests(cfg Config) (map[string]string, error) {
	out := map[string]string{}
	for _, file := range cfg.ExtraRepos {
		sum, err := treeDigest(file)
		if err != nil {
			return nil, err
		}
		out["extra_repos:"+file] = sum
	}
	for _, role := range cfg.CustomRoles.all() {
		dir, err := resolveRole(role)
		if err != nil {
			return nil, err
		}
		sum, err := treeDigest(dir)
		if err != nil {
			return nil, err
		}
		out["role:"+role] = sum
	}
	return out, nil
}

// treeDigest hashes a file, or a directory's files in walk (lexical) order.
func treeDigest(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s\x00%o\x00", rel, info.Mode())
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("hashing %q: %w", root, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
