package conn

import "testing"

func TestResponseText(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"Glance's JSON with HTML in the message",
			`{"message": "You are not authorized to complete publicize_image action.<br /><br />\n\n\n", "code": "403 Forbidden", "title": "Forbidden"}`,
			"Forbidden: You are not authorized to complete publicize_image action."},
		{"Glance's HTML page",
			"<html>\n <head>\n  <title>409 Conflict</title>\n </head>\n <body>\n  <h1>409 Conflict</h1>\n  Image status transition from active to saving is not allowed<br /><br />\n\n\n\n </body>\n</html>",
			"409 Conflict: Image status transition from active to saving is not allowed"},
		{"Keystone's JSON", `{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`,
			"Unauthorized: The request you have made requires authentication."},
		{"plain text", "  upstream\n  timed out ", "upstream timed out"},
		{"entities", "<p>a &amp; b</p>", "a & b"},
		{"empty", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ResponseText([]byte(c.body)); got != c.want {
				t.Errorf("ResponseText = %q, want %q", got, c.want)
			}
		})
	}
}
