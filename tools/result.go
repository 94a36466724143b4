package tools

import (
	"encoding/json"

	"github.com/mark3labs/mcp-go/mcp"
)

// result is a successful result: the output as structured content and the
// same JSON as text, for clients that show only text.
func result(out any) (*mcp.CallToolResult, error) {
	return textResult("", out)
}

// previewResult is the result of a destructive call made without confirm:
// its text starts with "Not executed" so that no reader mistakes it for a
// change.
func previewResult(summary string, out any) (*mcp.CallToolResult, error) {
	return textResult("Not executed: this is a preview and nothing was changed. "+summary+
		" Call again with confirm: true to proceed.", out)
}

// textResult is a successful result whose text leads with a line of words
// (already escaped), then the JSON.
func textResult(lead string, out any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	text := jsonText(b)
	if lead != "" {
		text = lead + "\n" + text
	}
	return mcp.NewToolResultStructured(out, text), nil
}
