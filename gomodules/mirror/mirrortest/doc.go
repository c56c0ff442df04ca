// Package mirrortest starts real registries (Debian's docker-registry, CNCF
// distribution) on 127.0.0.1 and builds images from real files, for the
// tests of the mirror and manifest packages, the integration suite and the
// benchmark (through the seed command beside it).
package mirrortest
