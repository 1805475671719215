package githubtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

var (
	gqlSchemaOnce sync.Once
	gqlSchemaVal  *ast.Schema
	gqlSchemaErr  error
)

// LoadGraphQLSchema parses GitHub's public GraphQL schema (schema.graphql
// of GraphQLSchemaPackage) at path. GitHub's published SDL declares a few
// fields twice with identical types (e.g. EnterpriseOwnerInfo
// .repositoryDeployKeySetting); such exact duplicates are dropped before
// validation, a conflicting duplicate is an error.
func LoadGraphQLSchema(path string) (*ast.Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read graphql schema: %w", err)
	}
	doc, err := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: "schema.graphql", Input: string(b)})
	if err != nil {
		return nil, fmt.Errorf("parse graphql schema %s: %w", path, err)
	}
	for _, def := range append(append(ast.DefinitionList{}, doc.Definitions...), doc.Extensions...) {
		seen := map[string]*ast.FieldDefinition{}
		kept := def.Fields[:0]
		for _, f := range def.Fields {
			if prev := seen[f.Name]; prev != nil {
				if prev.Type.String() != f.Type.String() {
					return nil, fmt.Errorf("graphql schema %s: field %s.%s declared twice with types %s and %s",
						path, def.Name, f.Name, prev.Type, f.Type)
				}
				continue
			}
			seen[f.Name] = f
			kept = append(kept, f)
		}
		def.Fields = kept
	}
	s, err := validator.ValidateSchemaDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("validate graphql schema %s: %w", path, err)
	}
	return s, nil
}

// RequireGraphQLSchema returns the process-wide parsed GraphQL schema,
// fetching the contract packages if missing. Like RequireContract it fails t
// when GHSYNC_REQUIRE_CONTRACTS=1 and skips it (loudly) otherwise.
func RequireGraphQLSchema(t testing.TB) *ast.Schema {
	t.Helper()
	gqlSchemaOnce.Do(func() {
		path, ok := GraphQLSchemaPath()
		if !ok {
			if err := FetchContracts(context.Background()); err != nil {
				gqlSchemaErr = fmt.Errorf("fetch contracts: %w", err)
				return
			}
			if path, ok = GraphQLSchemaPath(); !ok {
				gqlSchemaErr = fmt.Errorf("%s missing after fetch", path)
				return
			}
		}
		gqlSchemaVal, gqlSchemaErr = LoadGraphQLSchema(path)
	})
	if gqlSchemaErr != nil {
		msg := fmt.Sprintf("SKIP: GitHub GraphQL schema unavailable (%s in %s): %v", GraphQLSchemaPackage, ContractsDir(), gqlSchemaErr)
		if os.Getenv(EnvRequireContracts) == "1" {
			t.Fatal(strings.Replace(msg, "SKIP: ", "FATAL ("+EnvRequireContracts+"=1): ", 1))
		}
		t.Log("!!!!!!!! " + msg + " !!!!!!!!")
		t.Skip(msg)
	}
	return gqlSchemaVal
}
