package mapping

import (
	"fmt"
	"regexp"
	"text/template"
	"text/template/parse"
)

// Task templates come from the mapping file, which RevOps edit, so they are
// held to what a task text needs: no nested template definitions, range
// only over the data's own lists and maps (never over a number, which
// could loop for ever), and printf without giant widths. This keeps a typo
// or a hostile file from hanging the worker.

// bigWidth matches a printf verb with a width or precision of 4+ digits or
// one taken from an argument (*).
var bigWidth = regexp.MustCompile(`%[-+# 0]*(\d{4,}|\*)|\.(\d{4,}|\*)`)

func safePrintf(format string, args ...any) (string, error) {
	if bigWidth.MatchString(format) {
		return "", fmt.Errorf("printf format %q: widths and precisions are limited to 3 digits", format)
	}
	return fmt.Sprintf(format, args...), nil
}

var templateFuncs = template.FuncMap{"printf": safePrintf}

// checkTemplateTree rejects constructs task templates do not need.
func checkTemplateTree(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return fmt.Errorf("define blocks are not supported in task templates")
	}
	if t.Tree == nil {
		return nil
	}
	return walkTemplate(t.Tree.Root)
}

func walkTemplate(n parse.Node) error {
	switch n := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := walkTemplate(c); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		return fmt.Errorf("{{template}} is not supported in task templates")
	case *parse.RangeNode:
		cmds := n.Pipe.Cmds
		if len(cmds) != 1 || len(cmds[0].Args) != 1 {
			return fmt.Errorf("range only over a field such as .Reasons or .Metrics")
		}
		if _, ok := cmds[0].Args[0].(*parse.FieldNode); !ok {
			return fmt.Errorf("range only over a field such as .Reasons or .Metrics, not %s", cmds[0].Args[0])
		}
		if err := walkTemplate(n.List); err != nil {
			return err
		}
		return walkTemplate(n.ElseList)
	case *parse.IfNode:
		if err := walkTemplate(n.List); err != nil {
			return err
		}
		return walkTemplate(n.ElseList)
	case *parse.WithNode:
		if err := walkTemplate(n.List); err != nil {
			return err
		}
		return walkTemplate(n.ElseList)
	}
	return nil
}
