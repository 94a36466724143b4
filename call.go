package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

const callUsage = `Usage: ecs-keypair-mcp call TOOL [JSON-ARGUMENTS] [flags]

Runs one tool once, through the same MCP server an assistant talks to, and
prints its structured result as JSON on stdout. The error, a preview's
summary and the progress of long calls go to stderr. The arguments are one
JSON object, quoted for the shell, e.g.
  ecs-keypair-mcp --sandbox call describe_instances '{"regionId":"cn-hangzhou"}'
Exit status: 0 done; 1 failed, or the tool reported an error; 2 called wrongly.
`

// catalog is the tools as one command line sees them: every tool, and the
// ones its flags hide, with why. It follows tools.Register (--read-only
// registers only the read-only tools; --require-approval hides the
// destructive ones from a client that cannot elicit, which call's
// in-process client cannot); TestCatalogMatchesServer keeps the two in
// step.
type catalog struct {
	tools  []tools.Tool
	hidden map[string]hiding // by tool name
}

// hiding is why a tool is hidden: the flag, and what it means.
type hiding struct{ flag, why string }

var (
	hiddenByReadOnly = hiding{"--read-only", "it registers only the read-only tools"}
	hiddenByApproval = hiding{"--require-approval", "destructive tools then need a person's approval, which call cannot ask for; " +
		"run them from an MCP client that supports elicitation, or without --require-approval, where confirm: true is the confirmation"}
)

func newCatalog(cfg *serverConfig) *catalog {
	c := &catalog{tools: tools.All(tools.Deps{Regions: cfg.regions}), hidden: map[string]hiding{}}
	for _, t := range c.tools {
		// call's in-process client cannot ask a person.
		switch tools.HiddenBy(t, cfg.readOnly, cfg.requireApproval, false) {
		case "--read-only":
			c.hidden[t.Definition.Name] = hiddenByReadOnly
		case "--require-approval":
			c.hidden[t.Definition.Name] = hiddenByApproval
		}
	}
	return c
}

func kindOf(t tools.Tool) string { return t.Kind.String() }

func (c *catalog) find(name string) (tools.Tool, bool) {
	for _, t := range c.tools {
		if t.Definition.Name == name {
			return t, true
		}
	}
	return tools.Tool{}, false
}

// names returns the visible tools' names, or the hidden ones'.
func (c *catalog) names(hidden bool) []string {
	var out []string
	for _, t := range c.tools {
		if _, h := c.hidden[t.Definition.Name]; h == hidden {
			out = append(out, t.Definition.Name)
		}
	}
	return out
}

// hiddenLines says which tools are hidden, by which flag and why.
func (c *catalog) hiddenLines() []string {
	var out []string
	for _, h := range []hiding{hiddenByReadOnly, hiddenByApproval} {
		var names []string
		for _, name := range c.names(true) {
			if c.hidden[name] == h {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			out = append(out, fmt.Sprintf("hidden by %s: %s (%s)", h.flag, strings.Join(names, ", "), h.why))
		}
	}
	return out
}

// unknownTool says that no tool has that name, lists those there are, and
// which the flags hide.
func (c *catalog) unknownTool(name string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "no tool is called %q", name)
	all := make([]string, len(c.tools))
	for i, t := range c.tools {
		all[i] = t.Definition.Name
	}
	if best := closest(name, all); best != "" {
		fmt.Fprintf(&b, "; did you mean %s?", best)
	}
	fmt.Fprintf(&b, "\nthe tools: %s", strings.Join(c.names(false), ", "))
	for _, line := range c.hiddenLines() {
		b.WriteString("\n" + line)
	}
	return &usageError{msg: b.String(), help: "ecs-keypair-mcp call"}
}

// printCallHelp lists the tools, with their kind and title.
func (c *catalog) printCallHelp(w io.Writer) {
	fmt.Fprint(w, callUsage)
	fmt.Fprintln(w, "\nTools (ecs-keypair-mcp call TOOL --help describes one and its arguments):")
	width := 0
	for _, t := range c.tools {
		width = max(width, len(t.Definition.Name))
	}
	for _, t := range c.tools {
		line := fmt.Sprintf("  %-*s  %-11s  %s", width, t.Definition.Name, kindOf(t), t.Definition.Title)
		if h, ok := c.hidden[t.Definition.Name]; ok {
			line += "  [hidden by " + h.flag + "]"
		}
		fmt.Fprintln(w, line)
	}
	for _, line := range c.hiddenLines() {
		fmt.Fprintln(w, "\n"+wrap(strings.ToUpper(line[:1])+line[1:], 100, ""))
	}
}

// printToolHelp describes one tool and its arguments in words, from the
// input schema that tools/list shows.
func (c *catalog) printToolHelp(w io.Writer, t tools.Tool) error {
	d := t.Definition
	fmt.Fprintf(w, "%s: %s (%s)\n\n", d.Name, d.Title, kindOf(t))
	fmt.Fprintln(w, wrap(d.Description, 100, ""))
	if h, ok := c.hidden[d.Name]; ok {
		fmt.Fprintf(w, "\n%s\n", wrap(fmt.Sprintf("Hidden by %s: %s.", h.flag, h.why), 100, ""))
	}
	args, err := schema.Arguments(d.RawInputSchema)
	if err != nil {
		return fmt.Errorf("the input schema of %s: %w", d.Name, err)
	}
	if len(args) == 0 {
		fmt.Fprintf(w, "\nArguments: none.\n\n  ecs-keypair-mcp call %s\n", d.Name)
		return nil
	}
	fmt.Fprintln(w, "\nArguments (one JSON object):")
	writeArguments(w, args, "  ")
	return nil
}

func writeArguments(w io.Writer, args []schema.Argument, indent string) {
	for _, a := range args {
		req := "optional"
		if a.Required {
			req = "required"
		}
		head := []string{a.Type, req}
		head = append(head, a.Rules...)
		fmt.Fprintf(w, "%s%s: %s\n", indent, a.Name, strings.Join(head, "; "))
		if a.Description != "" {
			fmt.Fprintln(w, wrap(a.Description, 100, indent+"    "))
		}
		if len(a.Fields) > 0 {
			writeArguments(w, a.Fields, indent+"    ")
		}
	}
}

// wrap breaks text into lines of at most width columns (a word longer than
// that keeps its own line), each starting with indent.
func wrap(text string, width int, indent string) string {
	var lines []string
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	return strings.Join(append(lines, line), "\n")
}

// runCall runs one tool through an in-process MCP client, the path a real
// client's call takes, and prints the structured result.
func runCall(c *cli, cfg *serverConfig, args []string, help bool) error {
	cat := newCatalog(cfg)
	if help && len(args) == 0 {
		cat.printCallHelp(c.stdout)
		return nil
	}
	callUsagef := func(format string, a ...any) error {
		return &usageError{msg: fmt.Sprintf(format, a...), help: "ecs-keypair-mcp call"}
	}
	if len(args) == 0 {
		return callUsagef("give the tool to run: ecs-keypair-mcp call TOOL [JSON-ARGUMENTS]; the tools: %s", strings.Join(cat.names(false), ", "))
	}
	name := args[0]
	t, ok := cat.find(name)
	if !ok {
		return cat.unknownTool(name)
	}
	if help {
		return cat.printToolHelp(c.stdout, t)
	}
	// A tool the flags hide is still called: the server refuses it with
	// the reason, and records the attempt in the audit log, as it does for
	// a client that calls it by name.
	if len(args) > 2 {
		return callUsagef("unexpected argument %q: give the arguments as one JSON object, quoted for the shell, e.g. '{\"regionId\":\"cn-hangzhou\"}'", args[2])
	}
	arguments := json.RawMessage("{}")
	if len(args) == 2 {
		arguments = json.RawMessage(args[1])
		var probe map[string]any
		if err := json.Unmarshal(arguments, &probe); err != nil || probe == nil {
			return &usageError{help: "ecs-keypair-mcp call " + name,
				msg: fmt.Sprintf("the arguments of %s must be one JSON object, e.g. '{\"regionId\":\"cn-hangzhou\"}'", name)}
		}
	}
	logger := newLogger(cfg.logLevel, "warn", c.stderr)
	b, err := newBackend(c, cfg, logger)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The progress a client would get as notifications/progress, shown to
	// the person instead; stdout stays the result alone.
	progress := &progressLine{w: c.stderr, rewrite: c.stderrIsTerminal}
	ctx = tools.WithNotify(tools.WithCallTimeout(ctx, cfg.timeout), progress.notify)
	mc, err := client.NewInProcessClient(newMCPServer(b.deps, cfg.readOnly))
	if err == nil {
		err = mc.Start(ctx)
	}
	if err == nil {
		_, err = mc.Initialize(ctx, mcp.InitializeRequest{})
	}
	if err != nil {
		return fmt.Errorf("call: starting the in-process MCP client: %w", err)
	}
	defer mc.Close()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = arguments
	req.Params.Meta = &mcp.Meta{ProgressToken: "call"}
	res, err := mc.CallTool(ctx, req)
	progress.end()
	if err != nil {
		return fmt.Errorf("call %s: %w", name, err)
	}
	text := ""
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if res.IsError {
		return &toolError{text: text}
	}
	out, err := json.MarshalIndent(res.StructuredContent, "", "  ")
	if err != nil {
		return fmt.Errorf("call %s: the result: %w", name, err)
	}
	// A summary line ahead of the JSON (previews, destructive results)
	// goes to stderr for the person; stdout carries the JSON alone.
	if summary, _, found := strings.Cut(text, "\n"); found {
		fmt.Fprintln(c.stderr, summary)
	}
	_, err = c.stdout.Write(append(out, '\n'))
	return err
}

// progressLine shows a call's progress notifications to the person who
// runs it: on a terminal one line, rewritten in place as the call goes; on
// anything else (a file, a pipe) one line each.
type progressLine struct {
	w       io.Writer
	rewrite bool

	shown bool // a rewritten line is on screen, without its newline
}

// notify is a tools.Notify. Calls come one at a time, from the call's own
// goroutine, before its result returns.
func (p *progressLine) notify(method string, params map[string]any) error {
	if method != "notifications/progress" {
		return nil
	}
	msg, _ := params["message"].(string)
	if msg == "" {
		msg = fmt.Sprintf("%v requests done", params["progress"])
	}
	// The message is the tools' own, but a line is a line.
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	if p.rewrite {
		// \r to the start of the line, ESC[K clears what is left of the
		// longer line before.
		_, err := fmt.Fprintf(p.w, "\r%s\x1b[K", msg)
		p.shown = true
		return err
	}
	_, err := fmt.Fprintln(p.w, msg)
	return err
}

// end finishes the rewritten line, so that what follows starts on its own.
func (p *progressLine) end() {
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
