package fetch

// LocalPath returns the file a local source names (file:///path,
// file://localhost/path or an absolute path) and true; "" and false for an
// http or https URL and for a source that does not parse.
func LocalPath(raw string) (string, bool) {
	loc, err := parseLocation(raw)
	if err != nil || loc.path == "" {
		return "", false
	}
	return loc.path, true
}
