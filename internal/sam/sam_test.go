package sam

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/engine"
)

func i32(v int32) *int32 { return &v }

func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, file string, opts Options) *Template {
	t.Helper()
	tpl, err := Load(filepath.Join("testdata", file), opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", file, err)
	}
	return tpl
}

func fn(t *testing.T, tpl *Template, id string) Function {
	t.Helper()
	f := tpl.Lookup(id)
	if f == nil {
		t.Fatalf("%s: no function %s; have %v", tpl.Path, id, ids(tpl))
	}
	return *f
}

func ids(tpl *Template) []string {
	var out []string
	for _, f := range tpl.Functions {
		out = append(out, f.LogicalID)
	}
	return out
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		name string
		file string
		opts Options
		want []Function
	}{
		{
			name: "every property, explicit and generated names",
			file: "basic.yaml",
			want: []Function{{
				LogicalID: "OrderFn", Type: TypeServerlessFunction, FunctionName: "order-workflow",
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:order-workflow",
				CodeUri: abs(t, "src"), Handler: "index.handler", Runtime: "nodejs22.x",
				Description: "Processes orders", Role: "arn:aws:iam::123456789012:role/OrderFnRole",
				Timeout: i32(60), MemorySize: i32(256), Architectures: []string{"arm64"},
				Environment:   map[string]string{"LOG_LEVEL": "debug", "RETRIES": "3", "ENABLED": "true"},
				DurableConfig: &DurableConfig{ExecutionTimeout: i32(3600), RetentionPeriodInDays: i32(7)},
			}, {
				LogicalID: "PlainFn", Type: TypeServerlessFunction, FunctionName: "PlainFn", GeneratedName: true,
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:PlainFn",
				CodeUri: abs(t, "lib"), Handler: "index.handler", Runtime: "nodejs20.x",
				Role: "arn:aws:iam::123456789012:role/PlainFnRole",
			}},
		},
		{
			name: "region, account and partition options",
			file: "basic.yaml",
			opts: Options{Region: "eu-west-1", AccountID: "000000000000", Partition: "aws-cn"},
			want: []Function{{
				LogicalID: "OrderFn", Type: TypeServerlessFunction, FunctionName: "order-workflow",
				Arn:     "arn:aws-cn:lambda:eu-west-1:000000000000:function:order-workflow",
				CodeUri: abs(t, "src"), Handler: "index.handler", Runtime: "nodejs22.x",
				Description: "Processes orders", Role: "arn:aws-cn:iam::000000000000:role/OrderFnRole",
				Timeout: i32(60), MemorySize: i32(256), Architectures: []string{"arm64"},
				Environment:   map[string]string{"LOG_LEVEL": "debug", "RETRIES": "3", "ENABLED": "true"},
				DurableConfig: &DurableConfig{ExecutionTimeout: i32(3600), RetentionPeriodInDays: i32(7)},
			}, {
				LogicalID: "PlainFn", Type: TypeServerlessFunction, FunctionName: "PlainFn", GeneratedName: true,
				Arn:     "arn:aws-cn:lambda:eu-west-1:000000000000:function:PlainFn",
				CodeUri: abs(t, "lib"), Handler: "index.handler", Runtime: "nodejs20.x",
				Role: "arn:aws-cn:iam::000000000000:role/PlainFnRole",
			}},
		},
		{
			name: "globals: inherited, overridden, merged; not applied to AWS::Lambda::Function",
			file: "globals.yaml",
			want: []Function{{
				LogicalID: "Inherits", Type: TypeServerlessFunction, FunctionName: "Inherits", GeneratedName: true,
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:Inherits",
				CodeUri: abs(t, "src"), Handler: "index.handler", Runtime: "nodejs22.x",
				Role:    "arn:aws:iam::123456789012:role/InheritsRole",
				Timeout: i32(30), MemorySize: i32(128), Architectures: []string{"x86_64"},
				Environment:   map[string]string{"STAGE": "dev", "SHARED": "from-globals"},
				DurableConfig: &DurableConfig{ExecutionTimeout: i32(900), RetentionPeriodInDays: i32(1)},
			}, {
				LogicalID: "Overrides", Type: TypeServerlessFunction, FunctionName: "Overrides", GeneratedName: true,
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:Overrides",
				CodeUri: abs(t, "lib"), Handler: "index.handler", Runtime: "nodejs22.x",
				Role:    "arn:aws:iam::123456789012:role/OverridesRole",
				Timeout: i32(120), MemorySize: i32(128),
				// Architectures is replaced, not concatenated.
				Architectures: []string{"arm64"},
				Environment:   map[string]string{"STAGE": "dev", "SHARED": "from-resource", "OWN": "yes-really"},
				DurableConfig: &DurableConfig{ExecutionTimeout: i32(900), RetentionPeriodInDays: i32(30)},
			}, {
				LogicalID: "CfnFn", Type: TypeLambdaFunction, FunctionName: "CfnFn", GeneratedName: true,
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:CfnFn",
				CodeUri: abs(t, "lib"), Handler: "index.handler", Runtime: "nodejs20.x",
			}},
		},
		{
			name: "parameter defaults",
			file: "params.yaml",
			want: []Function{{
				LogicalID: "ParamFn", Type: TypeServerlessFunction, FunctionName: "orders-dev",
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:orders-dev",
				CodeUri: abs(t, "src"), Handler: "index.handler", Runtime: "nodejs22.x",
				Role:    "arn:aws:iam::123456789012:role/ParamFnRole",
				Timeout: i32(45), MemorySize: i32(512), Architectures: []string{"x86_64"},
				Environment: map[string]string{"STAGE": "dev"},
			}},
		},
		{
			name: "parameter overrides",
			file: "params.yaml",
			opts: Options{Parameters: map[string]string{"Stage": "prod", "TimeoutSeconds": "90", "Memory": "1024", "Archs": "arm64", "CodeDir": "lib"}},
			want: []Function{{
				LogicalID: "ParamFn", Type: TypeServerlessFunction, FunctionName: "orders-prod",
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:orders-prod",
				CodeUri: abs(t, "lib"), Handler: "index.handler", Runtime: "nodejs22.x",
				Role:    "arn:aws:iam::123456789012:role/ParamFnRole",
				Timeout: i32(90), MemorySize: i32(1024), Architectures: []string{"arm64"},
				Environment: map[string]string{"STAGE": "prod"},
			}},
		},
		{
			name: "JSON template with TestingMetadata and a role from GetAtt",
			file: "testing.json",
			want: []Function{{
				LogicalID: "StepBasic", Type: TypeServerlessFunction, FunctionName: "StepBasic", GeneratedName: true,
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:StepBasic",
				CodeUri: abs(t, "app"), Handler: "handlers.main.handler", Runtime: "python3.13",
				Role:    "arn:aws:iam::123456789012:role/DurableFunctionRole",
				Timeout: i32(60), MemorySize: i32(128),
				Environment:     map[string]string{"TARGET_FUNCTION_NAME": "arn:aws:lambda:us-east-1:123456789012:function:Echo:$LATEST"},
				DurableConfig:   &DurableConfig{ExecutionTimeout: i32(300), RetentionPeriodInDays: i32(7)},
				TestingMetadata: map[string]any{"TestDescription": []any{"1-1"}},
				TestIDs:         []string{"1-1"},
			}, {
				LogicalID: "Echo", Type: TypeServerlessFunction, FunctionName: "Echo", GeneratedName: true,
				Arn:     "arn:aws:lambda:us-east-1:123456789012:function:Echo",
				CodeUri: abs(t, "app"), Handler: "handlers.main.handler", Runtime: "python3.13",
				Role:    "arn:aws:iam::123456789012:role/DurableFunctionRole",
				Timeout: i32(60), MemorySize: i32(128),
				TestingMetadata: map[string]any{"TestDescription": "5-3"},
				TestIDs:         []string{"5-3"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := load(t, tt.file, tt.opts)
			if len(tpl.Functions) != len(tt.want) {
				t.Fatalf("got functions %v, want %d", ids(tpl), len(tt.want))
			}
			for i, want := range tt.want {
				if got := tpl.Functions[i]; !reflect.DeepEqual(got, want) {
					t.Errorf("function %d:\n got %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

func TestIntrinsics(t *testing.T) {
	const target = "arn:aws:lambda:us-east-1:123456789012:function:testdata-target"
	defaults := map[string]string{
		"REF_FN":             "testdata-target",
		"REF_FN_LONG":        "testdata-target",
		"REF_PARAM":          "dev",
		"REF_REGION":         "us-east-1",
		"REF_ACCOUNT":        "123456789012",
		"REF_STACK":          "testdata", // the template directory's name
		"REF_PARTITION":      "aws",
		"SUB_STRING":         "dev/us-east-1/123456789012/aws/testdata",
		"SUB_FN":             "testdata-target",
		"SUB_ARN":            target + ":$LATEST",
		"SUB_LIST":           "hello, testdata-target! ${Literal}",
		"SUB_LONG":           target,
		"GETATT":             target,
		"GETATT_LIST":        target,
		"GETATT_LONG":        target,
		"GETATT_LONG_STRING": target,
		"JOIN":               "a-dev-c",
		"SELECT":             "one",
		"SPLIT_SELECT":       "c",
		"BASE64":             "aGk=",
		"MAP":                "debug",
		"IF":                 "development",
		"IF_AND":             "yes",
		"TABLE":              "OrdersTable",
		"TABLE_ARN":          "OrdersTable.Arn",
		"ROLE_ARN":           "arn:aws:iam::123456789012:role/exec-role",
		"IMPLICIT_ROLE":      "arn:aws:iam::123456789012:role/TargetRole",
	}
	prodTarget := "arn:aws:lambda:eu-central-1:123456789012:function:shop-target"
	prod := map[string]string{
		"REF_FN": "shop-target", "REF_FN_LONG": "shop-target", "REF_PARAM": "prod",
		"REF_REGION": "eu-central-1", "REF_ACCOUNT": "123456789012", "REF_STACK": "shop", "REF_PARTITION": "aws",
		"SUB_STRING": "prod/eu-central-1/123456789012/aws/shop", "SUB_FN": "shop-target",
		"SUB_ARN": prodTarget + ":$LATEST", "SUB_LIST": "hello, shop-target! ${Literal}", "SUB_LONG": prodTarget,
		"GETATT": prodTarget, "GETATT_LIST": prodTarget, "GETATT_LONG": prodTarget, "GETATT_LONG_STRING": prodTarget,
		"JOIN": "a-prod-c", "SELECT": "one", "SPLIT_SELECT": "c", "BASE64": "aGk=", "MAP": "warn",
		"IF": "production", "IF_AND": "no", "TABLE": "OrdersTable", "TABLE_ARN": "OrdersTable.Arn",
		"ROLE_ARN": "arn:aws:iam::123456789012:role/exec-role", "IMPLICIT_ROLE": "arn:aws:iam::123456789012:role/TargetRole",
		"MAYBE": "set", // AWS::NoValue drops the variable in dev
	}
	tests := []struct {
		name      string
		opts      Options
		env       map[string]string
		functions []string
	}{
		{"defaults", Options{}, defaults, []string{"Target", "Caller"}},
		{"prod stack in another region", Options{StackName: "shop", Region: "eu-central-1", Parameters: map[string]string{"Stage": "prod"}}, prod, []string{"Target", "Caller", "ProdOnly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := load(t, "intrinsics.yaml", tt.opts)
			if got := ids(tpl); !slices.Equal(got, tt.functions) {
				t.Errorf("functions = %v, want %v", got, tt.functions)
			}
			env := fn(t, tpl, "Caller").Environment
			for k, want := range tt.env {
				if got, ok := env[k]; !ok || got != want {
					t.Errorf("%s = %q (set: %v), want %q", k, got, ok, want)
				}
			}
			for k := range env {
				if _, ok := tt.env[k]; !ok {
					t.Errorf("unexpected variable %s = %q", k, env[k])
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tpl := load(t, "intrinsics.yaml", Options{Parameters: map[string]string{"Nope": "x"}})
	want := []string{
		"testdata/intrinsics.yaml: parameter override Nope: the template declares no such parameter",
		`testdata/intrinsics.yaml: resource Caller: property Environment.Variables.TABLE: !Ref OrdersTable refers to a resource of type AWS::DynamoDB::Table, which duro does not run; it evaluates to "OrdersTable"`,
		`testdata/intrinsics.yaml: resource Caller: property Environment.Variables.TABLE_ARN: !GetAtt OrdersTable.Arn refers to a resource of type AWS::DynamoDB::Table, which duro does not run; it evaluates to "OrdersTable.Arn"`,
		"testdata/intrinsics.yaml: resource ProdOnly: skipped, its condition IsProd is false",
		"testdata/intrinsics.yaml: resource OrdersTable: type AWS::DynamoDB::Table is ignored (duro runs only AWS::Serverless::Function and AWS::Lambda::Function resources)",
		"testdata/intrinsics.yaml: resource ExecRole: type AWS::IAM::Role is ignored (duro runs only AWS::Serverless::Function and AWS::Lambda::Function resources)",
	}
	if !slices.Equal(tpl.Warnings, want) {
		t.Errorf("warnings:\n got %q\nwant %q", tpl.Warnings, want)
	}
	if got := load(t, "basic.yaml", Options{}).Warnings; len(got) != 0 {
		t.Errorf("basic.yaml warnings = %q, want none", got)
	}
}

func TestTestingMetadata(t *testing.T) {
	tpl := load(t, "testing.json", Options{})
	want := map[string]any{"NotImplemented": []any{map[string]any{"id": "4-9", "reason": "needs a real queue"}}}
	if !reflect.DeepEqual(tpl.TestingMetadata, want) {
		t.Errorf("template TestingMetadata = %#v, want %#v", tpl.TestingMetadata, want)
	}
	// The block is kept raw: intrinsics in it are not evaluated.
	caller := fn(t, load(t, "intrinsics.yaml", Options{}), "Caller")
	wantFn := map[string]any{"TestDescription": []any{"5-1", "5-2"}, "Note": "not evaluated ${Nothing}"}
	if !reflect.DeepEqual(caller.TestingMetadata, wantFn) || !slices.Equal(caller.TestIDs, []string{"5-1", "5-2"}) {
		t.Errorf("Caller TestingMetadata = %#v, TestIDs = %q", caller.TestingMetadata, caller.TestIDs)
	}
}

func TestParameters(t *testing.T) {
	tpl := load(t, "params.yaml", Options{Parameters: map[string]string{"Archs": "arm64"}})
	want := map[string]string{"Stage": "dev", "TimeoutSeconds": "45", "Memory": "512", "Archs": "arm64", "CodeDir": "src"}
	if !reflect.DeepEqual(tpl.Parameters, want) {
		t.Errorf("Parameters = %v, want %v", tpl.Parameters, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		file   string
		params map[string]string
		want   string
	}{
		{"timeout_string", nil, `resource OrderFn: property Timeout: must be an integer, got "abc"`},
		{"timeout_range", nil, `resource OrderFn: property Timeout: must be between 1 and 5400, got 0`},
		{"globals_timeout", nil, `resource OrderFn: property Timeout: must be an integer, got "soon" (inherited from Globals.Function)`},
		{"memory_list", nil, `resource OrderFn: property MemorySize: must be an integer, got a list`},
		{"retention_string", nil, `resource OrderFn: property DurableConfig.RetentionPeriodInDays: must be an integer, got "seven"`},
		{"bad_arch", nil, `resource OrderFn: property Architectures[0]: must be x86_64 or arm64, got "sparc"`},
		{"capacity_arn", nil, `resource OrderFn: property CapacityProviderConfig.Arn: "arn:aws:lambda:us-east-1:123456789012:function:nope" is not a capacity provider ARN (arn:aws:lambda:REGION:ACCOUNT:capacity-provider:NAME)`},
		{"capacity_concurrency", nil, `resource OrderFn: property CapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency: must be between 1 and 1600, got 0`},
		{"capacity_memory", nil, `resource OrderFn: property CapacityProviderConfig.ExecutionEnvironmentMemoryGiBPerVCpu: must be a number, got "lots"`},
		{"capacity_no_arn", nil, `resource OrderFn: property CapacityProviderConfig.Arn: is required`},
		{"bad_function_name", nil, `resource OrderFn: property FunctionName: "has spaces" is not a valid function name (1-64 letters, digits, '-' or '_')`},
		{"duplicate_name", nil, `resource Second: property FunctionName: function name "same" is also used by resource First`},
		{"name_cycle", nil, `resource B: property FunctionName: !Sub ${A}: the FunctionName of resource A depends on itself (a reference cycle)`},
		{"missing_runtime", nil, `resource OrderFn: property Runtime: is required`},
		{"missing_handler", nil, `resource OrderFn: property Handler: is required for runtime python3.13`},
		{"no_type", nil, `resource OrderFn: property Type: is required and must be a string`},
		{"missing_code", nil, `resource OrderFn: property CodeUri: directory "nowhere/" does not exist (resolved to ` + abs(t, "errors/nowhere") + `)`},
		{"code_file", nil, `resource OrderFn: property CodeUri: "../file.txt" is a file, not a directory (zip archives are not supported here; point CodeUri at the unpacked code)`},
		{"code_s3", nil, `resource OrderFn: property CodeUri: an S3 location cannot be run locally; set CodeUri to a directory next to the template`},
		{"inline_code", nil, `resource OrderFn: property InlineCode: inline code is not supported by duro dev; put the code in a directory and set CodeUri`},
		{"image", nil, `resource OrderFn: property PackageType: container image functions are not supported by duro dev; use a zip function with a CodeUri directory`},
		{"env_mapping", nil, `resource OrderFn: property Environment.Variables.NESTED: must be a string, got a mapping`},
		{"env_name", nil, `resource OrderFn: property Environment.Variables.1BAD: "1BAD" is not a valid environment variable name (a letter, then letters, digits or '_')`},
		{"unknown_ref", nil, `resource OrderFn: property Environment.Variables.TABLE: !Ref Nope: no parameter or resource of that name`},
		{"getatt_attr", nil, `resource OrderFn: property Environment.Variables.SELF: !GetAtt OrderFn.FunctionUrl: unsupported attribute of a function (duro supports Arn)`},
		{"getatt_unknown", nil, `resource OrderFn: property Environment.Variables.OTHER: !GetAtt Missing.Arn: no resource named Missing`},
		{"import_value", nil, `resource OrderFn: property Environment.Variables.SHARED: !ImportValue is not supported by duro (supported: Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Base64, Fn::If, Fn::FindInMap)`},
		{"condition_fn_as_value", nil, `resource OrderFn: property Environment.Variables.X: !Equals is a condition function: use it in Conditions, and Fn::If to choose a value`},
		{"sub_unterminated", nil, `resource OrderFn: property Environment.Variables.BAD: !Sub: unterminated ${ in "prefix-${AWS::Region"`},
		{"sub_list_param", nil, `resource OrderFn: property Environment.Variables.BAD: !Sub ${Names}: evaluates to a list, not a string (use Fn::Join for lists)`},
		{"ref_skipped", nil, `resource User: property Environment.Variables.TARGET: !Ref Skipped: resource Skipped is not created (its condition Never is false)`},
		{"missing_condition", nil, `Conditions: no condition named "NoSuchCondition"`},
		{"param_no_default", nil, `Parameters.Stage: has no Default and no value was given for it`},
		{"param_not_allowed", map[string]string{"Stage": "qa"}, `Parameters.Stage: value "qa" is not one of its AllowedValues`},
		{"invalid_yaml", nil, `invalid YAML: yaml: line 1: did not find expected ',' or ']'`},
		{"no_resources", nil, `the template has no Resources section`},
		{"empty", nil, `the template is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "errors", tt.file+".yaml")
			_, err := Load(path, Options{Parameters: tt.params})
			if err == nil {
				t.Fatal("no error")
			}
			if want := path + ": " + tt.want; err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *sam.Error", err)
			}
			if e.File != path {
				t.Errorf("File = %q, want %q", e.File, path)
			}
			if strings.HasPrefix(tt.want, "resource ") && e.Line == 0 {
				t.Errorf("Line is 0")
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Load("testdata/errors/timeout_string.yaml", Options{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not a *sam.Error", err)
	}
	if e.Resource != "OrderFn" || e.Property != "Timeout" || e.Line != 9 {
		t.Errorf("got Resource %q Property %q Line %d, want OrderFn Timeout 9", e.Resource, e.Property, e.Line)
	}
}

func TestParseUsesPathForDir(t *testing.T) {
	data := []byte("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: src, Handler: index.handler, Runtime: nodejs22.x}\n")
	tpl, err := Parse(data, filepath.Join("testdata", "in-memory.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tpl.Functions[0].CodeUri, abs(t, "src"); got != want {
		t.Errorf("CodeUri = %q, want %q", got, want)
	}
	if tpl.Dir != abs(t, ".") {
		t.Errorf("Dir = %q", tpl.Dir)
	}
}

func TestCreateFunctionInput(t *testing.T) {
	f := fn(t, load(t, "basic.yaml", Options{}), "OrderFn")
	got := f.CreateFunctionInput()
	want := engine.CreateFunctionInput{
		FunctionName: "order-workflow", Runtime: "nodejs22.x", Role: "arn:aws:iam::123456789012:role/OrderFnRole",
		Handler: "index.handler", Description: "Processes orders", Timeout: i32(60), MemorySize: i32(256),
		PackageType: "Zip", Architectures: []string{"arm64"},
		Environment:   &engine.EnvironmentVariables{Variables: map[string]string{"LOG_LEVEL": "debug", "RETRIES": "3", "ENABLED": "true"}},
		DurableConfig: &engine.DurableConfig{ExecutionTimeout: i32(3600), RetentionPeriodInDays: i32(7)},
		LocalCodeDir:  abs(t, "src"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The request owns its maps and pointers.
	got.Environment.Variables["LOG_LEVEL"] = "x"
	*got.Timeout = 1
	if f.Environment["LOG_LEVEL"] != "debug" || *f.Timeout != 60 {
		t.Error("CreateFunctionInput shares state with the Function")
	}
	plain := fn(t, load(t, "basic.yaml", Options{}), "PlainFn").CreateFunctionInput()
	if plain.Environment != nil || plain.DurableConfig != nil || plain.Timeout != nil {
		t.Errorf("PlainFn: got %+v, want no Environment, DurableConfig or Timeout", plain)
	}
}

// CapacityProviderConfig in SAM's shape and in CloudFormation's, with the
// provider's ARN from a GetAtt of the capacity provider resource.
func TestCapacityProviderConfig(t *testing.T) {
	tpl := load(t, "managed.yaml", Options{})
	four := 4.0
	want := &engine.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &engine.ManagedInstancesConfig{
		CapacityProviderArn:                   "arn:aws:lambda:us-east-1:123456789012:capacity-provider:shared-fleet",
		PerExecutionEnvironmentMaxConcurrency: i32(32), ExecutionEnvironmentMemoryGiBPerVCpu: &four,
	}}
	if got := fn(t, tpl, "ManagedFn").CreateFunctionInput().CapacityProviderConfig; !reflect.DeepEqual(got, want) {
		t.Errorf("ManagedFn: CapacityProviderConfig %+v, want %+v", got.LambdaManagedInstancesCapacityProviderConfig, want.LambdaManagedInstancesCapacityProviderConfig)
	}
	want = &engine.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &engine.ManagedInstancesConfig{
		CapacityProviderArn: "arn:aws:lambda:us-east-1:123456789012:capacity-provider:Unnamed",
	}}
	if got := fn(t, tpl, "RawFn").CreateFunctionInput().CapacityProviderConfig; !reflect.DeepEqual(got, want) {
		t.Errorf("RawFn: CapacityProviderConfig %+v, want %+v", got.LambdaManagedInstancesCapacityProviderConfig, want.LambdaManagedInstancesCapacityProviderConfig)
	}
	if got := fn(t, load(t, "basic.yaml", Options{}), "OrderFn").CreateFunctionInput().CapacityProviderConfig; got != nil {
		t.Errorf("a function without CapacityProviderConfig got %+v", got)
	}
}

func TestStackNameFromDir(t *testing.T) {
	for dir, want := range map[string]string{
		"/x/order-workflow": "order-workflow",
		"/x/my_app 2":       "my-app-2",
		"/x/123":            "duro",
		"/x/9lives":         "lives",
	} {
		if got := stackNameFromDir(dir); got != want {
			t.Errorf("stackNameFromDir(%q) = %q, want %q", dir, got, want)
		}
	}
}

// The example that `duro dev` runs must load.
func TestBundledExample(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "order-workflow", "template.yaml")
	tpl, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.Functions) != 1 || len(tpl.Warnings) != 0 {
		t.Fatalf("functions %v, warnings %q; want one function and no warnings", ids(tpl), tpl.Warnings)
	}
	f := tpl.Functions[0]
	dir, _ := filepath.Abs(filepath.Join("..", "..", "examples", "order-workflow", "src"))
	if f.FunctionName != "order-workflow" || f.Handler != "index.handler" || f.Runtime != "nodejs22.x" ||
		f.CodeUri != dir || f.Timeout == nil || *f.Timeout != 60 || f.DurableConfig == nil ||
		*f.DurableConfig.ExecutionTimeout != 3600 || *f.DurableConfig.RetentionPeriodInDays != 7 {
		t.Errorf("got %+v", f)
	}
}
