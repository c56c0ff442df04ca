// Package buildrecord is the build record image_build writes beside every
// image it makes, <name>.build.json: every build variable with its final
// value and where it came from (as airship's VariableCatalogue), the
// packages installed, the mirror, the tool's version and each output's
// digests.
//
// It is a building block: image_build writes records (Write), and the
// upload engine (package ingest) reads the record beside a local image
// (Beside) to check the image against its digests and to record the build's
// key facts in Glance properties (GlanceProperties), without either module
// package importing the other.
package buildrecord
