package manifest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// The file is written as Atmosphere's image_manifest role writes it:
// Ansible's to_nice_yaml(indent=2), which is PyYAML's yaml.dump with
// indent 2, block style, sorted keys and allow_unicode, through libyaml's
// emitter (Ansible takes CSafeDumper whenever PyYAML has libyaml, as
// Debian's package and PyPI's wheels do). For {var: {name: ref}} the output
// depends only on how each string is quoted, which this file decides by
// libyaml's rules (yaml_emitter_analyze_scalar, select_scalar_style,
// check_simple_key) and PyYAML's YAML 1.1 implicit resolvers, so that a
// diff between the two tools' files is empty.

// niceIndent is the indentation of to_nice_yaml(indent=2).
const niceIndent = "  "

// maxSimpleKey is libyaml's limit, in bytes, for a key written as
// "key: value"; longer keys take the "? key" form, which image names never
// need.
const maxSimpleKey = 128

// nonStringPlain matches the plain scalars YAML 1.1 reads as something other
// than a string (bool, float, int, merge, null, timestamp, value, and the
// "yaml" tag): such strings are quoted.
var nonStringPlain = regexp.MustCompile(`^(?:` +
	`yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF` +
	`|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?` +
	`|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` +
	`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
	`|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` +
	`|<<|~|null|Null|NULL|` +
	`|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]` +
	`|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?` +
	`|=|!|&|\*` +
	`)$`)

// quoting is how a scalar is written.
type quoting int

const (
	plain quoting = iota
	singleQuoted
	doubleQuoted
)

// renderNice returns {varName: manifest} as to_nice_yaml(indent=2) writes
// it. Names are keys: they must be at most 128 bytes without line breaks,
// as libyaml's simple keys are; references never hold a space or a line
// break (imageref rejects them), so no line is ever folded.
func renderNice(varName string, manifest map[string]string) ([]byte, error) {
	var b strings.Builder
	if err := writeKey(&b, varName); err != nil {
		return nil, fmt.Errorf("option var_name: %w", err)
	}
	if len(manifest) == 0 {
		b.WriteString(" {}\n")
		return []byte(b.String()), nil
	}
	b.WriteString("\n")
	names := make([]string, 0, len(manifest))
	for n := range manifest {
		names = append(names, n)
	}
	sort.Strings(names) // byte order of UTF-8 is Python's code point order
	for _, n := range names {
		b.WriteString(niceIndent)
		if err := writeKey(&b, n); err != nil {
			return nil, fmt.Errorf("image %q: %w", n, err)
		}
		b.WriteString(" ")
		if err := writeValue(&b, manifest[n]); err != nil {
			return nil, fmt.Errorf("image %q: %w", n, err)
		}
		b.WriteString("\n")
	}
	return []byte(b.String()), nil
}

func writeKey(b *strings.Builder, key string) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("the name %q is not valid UTF-8", key)
	}
	if len(key) > maxSimpleKey || hasLineBreak(key) {
		return fmt.Errorf("the name %q must be at most %d bytes without line breaks", key, maxSimpleKey)
	}
	writeScalar(b, key, chooseQuoting(key))
	b.WriteString(":")
	return nil
}

func writeValue(b *strings.Builder, value string) error {
	if !utf8.ValidString(value) || value == "" || strings.ContainsAny(value, " \t") || hasLineBreak(value) {
		return fmt.Errorf("the reference %q must be one word of valid UTF-8", value)
	}
	writeScalar(b, value, chooseQuoting(value))
	return nil
}

// hasLineBreak is libyaml's IS_BREAK: a string with one is multi-line.
func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n\u0085\u2028\u2029") }

// chooseQuoting is libyaml's choice for a one-line scalar in block
// context: plain when it would read back as the same string and has no
// indicator that ends or starts something else, single quotes unless it
// holds characters only double quotes can escape.
func chooseQuoting(s string) quoting {
	if s == "" {
		return singleQuoted
	}
	blockIndicator, special := analyze(s)
	switch {
	case special:
		return doubleQuoted
	case blockIndicator || nonStringPlain.MatchString(s) || s[0] == ' ' || s[len(s)-1] == ' ':
		return singleQuoted
	default:
		return plain
	}
}

// analyze reports whether s has an indicator that forbids a plain scalar
// in block context, and characters that only a double-quoted scalar can
// hold (control characters, tabs, a byte order mark).
func analyze(s string) (blockIndicator, special bool) {
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockIndicator = true
	}
	runes := []rune(s)
	followedBySpace := func(i int) bool { return i+1 >= len(runes) || isYAMLSpace(runes[i+1]) }
	for i, ch := range runes {
		if i == 0 {
			switch {
			case strings.ContainsRune("#,[]{}&*!|>'\"%@`", ch):
				blockIndicator = true
			case (ch == '?' || ch == ':' || ch == '-') && followedBySpace(i):
				blockIndicator = true
			}
		} else {
			switch {
			case ch == ':' && followedBySpace(i):
				blockIndicator = true
			case ch == '#' && isYAMLSpace(runes[i-1]):
				blockIndicator = true
			}
		}
		if !printable(ch) {
			special = true
		}
	}
	return blockIndicator, special
}

// isYAMLSpace is libyaml's IS_BLANKZ: what may follow or precede an
// indicator.
func isYAMLSpace(ch rune) bool {
	return strings.ContainsRune("\x00 \t\r\n\u0085\u2028\u2029", ch)
}

// printable is libyaml's IS_PRINTABLE: the characters a plain or
// single-quoted scalar may hold with allow_unicode. It stops at U+FFFD:
// characters outside the Basic Multilingual Plane are escaped.
func printable(ch rune) bool {
	return ch == '\n' || (ch >= 0x20 && ch <= 0x7e) ||
		(ch >= 0xa0 && ch <= 0xd7ff) || (ch >= 0xe000 && ch <= 0xfffd && ch != 0xfeff)
}

func writeScalar(b *strings.Builder, s string, q quoting) {
	switch q {
	case plain:
		b.WriteString(s)
	case singleQuoted:
		b.WriteString("'" + strings.ReplaceAll(s, "'", "''") + "'")
	default:
		writeDoubleQuoted(b, s)
	}
}

// doubleEscapes are the short escapes libyaml writes in double quotes.
var doubleEscapes = map[rune]string{
	0: `\0`, 0x07: `\a`, 0x08: `\b`, 0x09: `\t`, 0x0a: `\n`, 0x0b: `\v`, 0x0c: `\f`, 0x0d: `\r`,
	0x1b: `\e`, '"': `\"`, '\\': `\\`, 0x85: `\N`, 0xa0: `\_`, 0x2028: `\L`, 0x2029: `\P`,
}

func writeDoubleQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, ch := range s {
		if printable(ch) && ch != '\n' && ch != '"' && ch != '\\' {
			b.WriteRune(ch)
			continue
		}
		switch esc, ok := doubleEscapes[ch]; {
		case ok:
			b.WriteString(esc)
		case ch <= 0xff:
			fmt.Fprintf(b, `\x%02X`, ch)
		case ch <= 0xffff:
			fmt.Fprintf(b, `\u%04X`, ch)
		default:
			fmt.Fprintf(b, `\U%08X`, ch)
		}
	}
	b.WriteByte('"')
}
