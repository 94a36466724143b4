package schema

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"
)

// TestEveryInputTypeIsChecked: TestSchemasFollowLimits covers the types in
// inputTypes, so a new tool's input type must be listed there. This reads
// types.go for every struct type named ...Input (aliases such as
// AttachKeyPairInput are the type they name) and fails for one missing.
func TestEveryInputTypeIsChecked(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "types.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, typ := range inputTypes {
		listed = append(listed, typ.Name())
	}
	found := 0
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		for _, spec := range gen.Specs {
			ts := spec.(*ast.TypeSpec)
			if _, isStruct := ts.Type.(*ast.StructType); !isStruct || ts.Assign.IsValid() || !strings.HasSuffix(ts.Name.Name, "Input") {
				continue
			}
			found++
			if !slices.Contains(listed, ts.Name.Name) {
				t.Errorf("%s is not in inputTypes (limits_test.go): its schema is not checked against limits.go", ts.Name.Name)
			}
		}
	}
	if found == 0 {
		t.Fatal("no input types found in types.go")
	}
}
