package template

import (
	"strings"
	"testing"
)

const sample = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
TestingMetadata:
  NotImplemented:
    - id: "8-13"
      reason: tolerated failure percentage not supported
Resources:
  StepBasic:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: step-basic
      CodeUri: ./dist
      Environment:
        Variables:
          TARGET: !GetAtt Target.Arn
    TestingMetadata:
      TestDescription: ["1-1", "1-2"]
  Named:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub '${AWS::StackName}-named'
    TestingMetadata:
      TestDescription:
        - 2-1
        - 1-2
      NotImplemented:
        - {id: "9-1", reason: first}
        - {id: "8-13", reason: second}
  Target:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: target
  Single:
    Type: AWS::Serverless::Function
    TestingMetadata:
      TestDescription: 3-1
  Table:
    Type: AWS::DynamoDB::Table
    TestingMetadata:
      TestDescription: ["4-1"]
`

func TestParse(t *testing.T) {
	b, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{"1-1": "step-basic", "1-2": "step-basic", "2-1": "Named", "3-1": "Single"}
	for id, want := range tests {
		f, ok := b.Function(id)
		if !ok || f.FunctionName != want {
			t.Errorf("Function(%s) = %+v, %v; want %s", id, f, ok, want)
		}
	}
	if _, ok := b.Function("4-1"); ok {
		t.Error("a non-function resource was bound")
	}
	if len(b.Functions) != 4 || b.Functions[2].LogicalID != "Target" || b.Functions[2].FunctionName != "target" {
		t.Errorf("functions %+v", b.Functions)
	}
	if b.NotImplemented["8-13"] != "tolerated failure percentage not supported" || b.NotImplemented["9-1"] != "first" {
		t.Errorf("not implemented %v", b.NotImplemented)
	}
	w := strings.Join(b.Warnings, "\n")
	if !strings.Contains(w, "resource Named: FunctionName is not a plain string") || !strings.Contains(w, "requirement 1-2 is listed by StepBasic and Named") {
		t.Errorf("warnings %q", b.Warnings)
	}
	if got := strings.Join(b.IDs(), ","); got != "1-1,1-2,2-1,3-1" {
		t.Errorf("IDs = %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"- a list", "Resources: [1]", "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    TestingMetadata:\n      TestDescription: {a: b}\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestAddNotImplemented(t *testing.T) {
	into := map[string]string{"1-1": "kept"}
	AddNotImplemented(map[string]any{"NotImplemented": []any{
		map[string]any{"id": "1-1", "reason": "ignored"},
		map[string]any{"id": "2-1", "reason": "gap"},
		map[string]any{"reason": "no id"},
		"junk",
	}}, into)
	AddNotImplemented(nil, into)
	if len(into) != 2 || into["1-1"] != "kept" || into["2-1"] != "gap" {
		t.Errorf("into = %v", into)
	}
}
