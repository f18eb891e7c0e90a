package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestFunctionRegistry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	dc := &types.DurableConfig{ExecutionTimeout: aws.Int32(3600), RetentionPeriodInDays: aws.Int32(7)}

	created := e.createFunction("registry-fn", fnOpts{durable: dc}, nil)
	if got := statusOf(t, created.ResultMetadata); got != http.StatusCreated {
		t.Errorf("CreateFunction status = %d, want 201", got)
	}
	checkConfig := func(what string, cfg *types.DurableConfig, version string, v *string, arn *string) {
		t.Helper()
		if cfg == nil || aws.ToInt32(cfg.ExecutionTimeout) != 3600 || aws.ToInt32(cfg.RetentionPeriodInDays) != 7 {
			t.Errorf("%s: DurableConfig = %+v, want ExecutionTimeout 3600, RetentionPeriodInDays 7", what, cfg)
		}
		if aws.ToString(v) != version {
			t.Errorf("%s: Version = %q, want %q", what, aws.ToString(v), version)
		}
		wantArn := "arn:aws:lambda:us-east-1:123456789012:function:registry-fn"
		if version != latest {
			wantArn += ":" + version
		}
		if aws.ToString(arn) != wantArn {
			t.Errorf("%s: FunctionArn = %q, want %q", what, aws.ToString(arn), wantArn)
		}
	}
	checkConfig("CreateFunction", created.DurableConfig, latest, created.Version, created.FunctionArn)

	_, err := e.client.CreateFunction(c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("registry-fn"), Role: aws.String("arn:aws:iam::123456789012:role/x"),
		Code: &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}, // an empty zip
	})
	apiErr[*types.ResourceConflictException](t, err)

	got, err := e.client.GetFunction(c, &lambda.GetFunctionInput{FunctionName: aws.String("registry-fn")})
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}
	checkConfig("GetFunction", got.Configuration.DurableConfig, latest, got.Configuration.Version, got.Configuration.FunctionArn)

	cfg, err := e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("registry-fn")})
	if err != nil {
		t.Fatalf("GetFunctionConfiguration: %v", err)
	}
	checkConfig("GetFunctionConfiguration", cfg.DurableConfig, latest, cfg.Version, cfg.FunctionArn)

	upd, err := e.client.UpdateFunctionConfiguration(c, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("registry-fn"), Description: aws.String("updated"), Timeout: aws.Int32(42),
	})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	if aws.ToString(upd.Description) != "updated" || aws.ToInt32(upd.Timeout) != 42 || aws.ToString(upd.RevisionId) == aws.ToString(cfg.RevisionId) {
		t.Errorf("UpdateFunctionConfiguration = description %q, timeout %d, revision %q (was %q)",
			aws.ToString(upd.Description), aws.ToInt32(upd.Timeout), aws.ToString(upd.RevisionId), aws.ToString(cfg.RevisionId))
	}
	checkConfig("UpdateFunctionConfiguration", upd.DurableConfig, latest, upd.Version, upd.FunctionArn)
	cfg, err = e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("registry-fn")})
	if err != nil || aws.ToString(cfg.Description) != "updated" || aws.ToInt32(cfg.Timeout) != 42 {
		t.Errorf("GetFunctionConfiguration after update = %+v, %v", cfg, err)
	}

	for i := 1; i <= 2; i++ {
		pv, err := e.client.PublishVersion(c, &lambda.PublishVersionInput{FunctionName: aws.String("registry-fn"), Description: aws.String(fmt.Sprintf("v%d", i))})
		if err != nil {
			t.Fatalf("PublishVersion: %v", err)
		}
		if s := statusOf(t, pv.ResultMetadata); s != http.StatusCreated {
			t.Errorf("PublishVersion status = %d, want 201", s)
		}
		checkConfig("PublishVersion", pv.DurableConfig, fmt.Sprint(i), pv.Version, pv.FunctionArn)
	}
	v1, err := e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("registry-fn"), Qualifier: aws.String("1")})
	if err != nil {
		t.Fatalf("GetFunctionConfiguration(:1): %v", err)
	}
	checkConfig("GetFunctionConfiguration(:1)", v1.DurableConfig, "1", v1.Version, v1.FunctionArn)
	if aws.ToString(v1.Description) != "v1" {
		t.Errorf("version 1 description = %q, want v1", aws.ToString(v1.Description))
	}

	// ListVersionsByFunction, one version per page.
	var versions []string
	pages := 0
	p := lambda.NewListVersionsByFunctionPaginator(e.client, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("registry-fn"), MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatalf("ListVersionsByFunction: %v", err)
		}
		pages++
		for _, v := range page.Versions {
			versions = append(versions, aws.ToString(v.Version))
		}
	}
	if !sameStrings(versions, []string{latest, "1", "2"}) || pages != 3 {
		t.Errorf("ListVersionsByFunction = %v in %d pages, want [$LATEST 1 2] in 3", versions, pages)
	}

	// Delete one version, then the function.
	if _, err := e.client.DeleteFunction(c, &lambda.DeleteFunctionInput{FunctionName: aws.String("registry-fn"), Qualifier: aws.String("1")}); err != nil {
		t.Fatalf("DeleteFunction(:1): %v", err)
	}
	_, err = e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("registry-fn"), Qualifier: aws.String("1")})
	apiErr[*types.ResourceNotFoundException](t, err)
	if _, err := e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("registry-fn"), Qualifier: aws.String("2")}); err != nil {
		t.Errorf("version 2 gone after deleting version 1: %v", err)
	}
	if _, err := e.client.DeleteFunction(c, &lambda.DeleteFunctionInput{FunctionName: aws.String("registry-fn")}); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	_, err = e.client.GetFunction(c, &lambda.GetFunctionInput{FunctionName: aws.String("registry-fn")})
	apiErr[*types.ResourceNotFoundException](t, err)
	_, err = e.client.GetFunction(c, &lambda.GetFunctionInput{FunctionName: aws.String("registry-fn"), Qualifier: aws.String("2")})
	apiErr[*types.ResourceNotFoundException](t, err)
}

func TestFunctionRegistryErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	cases := []struct {
		name string
		call func() error
	}{
		{"GetFunction", func() error {
			_, err := e.client.GetFunction(c, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
			return err
		}},
		{"GetFunctionConfiguration", func() error {
			_, err := e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("nope")})
			return err
		}},
		{"GetFunctionByArn", func() error {
			_, err := e.client.GetFunction(c, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:nope")})
			return err
		}},
		{"UpdateFunctionConfiguration", func() error {
			_, err := e.client.UpdateFunctionConfiguration(c, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("nope"), Description: aws.String("x")})
			return err
		}},
		{"PublishVersion", func() error {
			_, err := e.client.PublishVersion(c, &lambda.PublishVersionInput{FunctionName: aws.String("nope")})
			return err
		}},
		{"ListVersionsByFunction", func() error {
			_, err := e.client.ListVersionsByFunction(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("nope")})
			return err
		}},
		{"DeleteFunction", func() error {
			_, err := e.client.DeleteFunction(c, &lambda.DeleteFunctionInput{FunctionName: aws.String("nope")})
			return err
		}},
		{"Invoke", func() error {
			_, err := e.client.Invoke(c, &lambda.InvokeInput{FunctionName: aws.String("nope"), Qualifier: aws.String(latest)})
			return err
		}},
		{"ListDurableExecutionsByFunction", func() error {
			_, err := e.client.ListDurableExecutionsByFunction(c, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("nope")})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nf := apiErr[*types.ResourceNotFoundException](t, tc.call())
			if !strings.Contains(nf.ErrorMessage(), "nope") {
				t.Errorf("message %q does not name the function", nf.ErrorMessage())
			}
		})
	}
}

func TestListFunctionsPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := []string{"list-a", "list-b", "list-c", "list-d", "list-e"}
	for _, n := range []string{"list-c", "list-a", "list-e", "list-b", "list-d"} {
		e.createFunction(n, fnOpts{}, nil)
	}
	var names []string
	pages := 0
	p := lambda.NewListFunctionsPaginator(e.client, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("ListFunctions: %v", err)
		}
		pages++
		if len(page.Functions) > 2 {
			t.Errorf("page of %d functions with MaxItems 2", len(page.Functions))
		}
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
			if aws.ToString(f.Version) != latest {
				t.Errorf("ListFunctions lists version %q of %s, want $LATEST", aws.ToString(f.Version), aws.ToString(f.FunctionName))
			}
		}
	}
	if !sameStrings(names, want) || pages != 3 {
		t.Errorf("ListFunctions = %v in %d pages, want %v in 3", names, pages, want)
	}
}
