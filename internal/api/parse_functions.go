package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/duro-run/duro/internal/engine"
)

// This file decodes and validates the function operations' inputs.
// Runtime is deliberately not checked against the model's enum: the list
// grows with every Lambda release and which runtimes Duro can run is the
// runtime host's decision, not the wire layer's.

// parseFunctionNameLabel validates a NamespacedFunctionName label (a name,
// partial ARN or ARN, possibly qualified) with an optional Qualifier query.
func parseFunctionNameLabel(name string, q query) (qualifier string, err error) {
	var v violations
	v.required("functionName", name, ruleNamespacedFunctionName)
	qualifier = checkQualifier(&v, q)
	return qualifier, v.err()
}

// parseStrictFunctionNameLabel validates a FunctionName label, the shape of
// DeleteFunction, UpdateFunctionConfiguration and PublishVersion.
func parseStrictFunctionNameLabel(name string, q query) (qualifier string, err error) {
	var v violations
	v.required("functionName", name, ruleFunctionName)
	qualifier = checkQualifier(&v, q)
	return qualifier, v.err()
}

// checkQualifier validates an optional ?Qualifier=.
func checkQualifier(v *violations, q query) string {
	s, ok := q.str("Qualifier")
	if ok {
		v.str("qualifier", s, ruleQualifier)
	}
	return s
}

// listParams are the Marker/MaxItems pair of ListFunctions and
// ListVersionsByFunction.
type listParams struct {
	marker   string
	maxItems int
}

// parseListParams decodes Marker and MaxItems (MaxListItems: 1..10000; absent
// means the engine's default, passed as 0).
func parseListParams(q query) (listParams, error) {
	var out listParams
	out.marker, _ = q.str("Marker")
	n, err := q.integer("MaxItems", 0)
	if err != nil {
		return out, err
	}
	var v violations
	if _, ok := q.str("MaxItems"); ok {
		v.intRange("maxItems", n, 1, maxListItems)
	}
	if s, ok := q.str("FunctionVersion"); ok {
		v.enum("functionVersion", s, enumFunctionVersion)
	}
	out.maxItems = int(n)
	return out, v.err()
}

// parseCreateFunction decodes and validates a CreateFunction body.
// FunctionName is the only member Duro requires; Role and Code are required
// by the model but clients that care (Go, botocore) enforce that
// themselves, and Duro has no use for a role.
func parseCreateFunction(body []byte) (engine.CreateFunctionInput, error) {
	var in engine.CreateFunctionInput
	if err := decodeJSON(body, &in); err != nil {
		return in, err
	}
	var v violations
	v.required("functionName", in.FunctionName, ruleFunctionName)
	v.nonEmpty("role", in.Role, ruleRoleArn)
	v.nonEmpty("handler", in.Handler, ruleHandler)
	v.nonEmpty("description", in.Description, ruleDescription)
	v.optInt("timeout", in.Timeout, minTimeout, maxTimeout)
	v.optInt("memorySize", in.MemorySize, minMemory, maxMemory)
	if in.PackageType != "" {
		v.enum("packageType", in.PackageType, enumPackageType)
	}
	if in.Architectures != nil {
		v.listLen("architectures", in.Architectures, 1, 1)
		v.enumList("architectures", in.Architectures, enumArchitecture)
	}
	checkEnvironment(&v, in.Environment)
	checkDurableConfig(&v, in.DurableConfig)
	checkCapacityProviderConfig(&v, in.CapacityProviderConfig)
	return in, v.err()
}

// parseUpdateFunctionConfiguration decodes and validates an
// UpdateFunctionConfiguration body. Absent members change nothing.
func parseUpdateFunctionConfiguration(body []byte) (engine.UpdateFunctionConfigurationInput, error) {
	var in engine.UpdateFunctionConfigurationInput
	if err := decodeJSON(body, &in); err != nil {
		return in, err
	}
	var v violations
	if in.Role != nil && *in.Role != "" {
		v.str("role", *in.Role, ruleRoleArn)
	}
	if in.Handler != nil && *in.Handler != "" {
		v.str("handler", *in.Handler, ruleHandler)
	}
	v.optional("description", in.Description, ruleDescription)
	v.optInt("timeout", in.Timeout, minTimeout, maxTimeout)
	v.optInt("memorySize", in.MemorySize, minMemory, maxMemory)
	checkEnvironment(&v, in.Environment)
	checkDurableConfig(&v, in.DurableConfig)
	checkCapacityProviderConfig(&v, in.CapacityProviderConfig)
	return in, v.err()
}

// publishVersionRequest is the PublishVersion body. Duro keeps only the
// description; CodeSha256 and RevisionId preconditions are not supported by
// the engine interface and are ignored.
type publishVersionRequest struct {
	CodeSha256  *string `json:"CodeSha256"`
	Description *string `json:"Description"`
	RevisionId  *string `json:"RevisionId"`
	PublishTo   *string `json:"PublishTo"`
}

// parsePublishVersion decodes and validates a PublishVersion body.
func parsePublishVersion(body []byte) (description string, err error) {
	var req publishVersionRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", err
	}
	var v violations
	v.optional("description", req.Description, ruleDescription)
	if req.PublishTo != nil {
		v.enum("publishTo", *req.PublishTo, []string{"LATEST_PUBLISHED"})
	}
	if req.Description != nil {
		description = *req.Description
	}
	return description, v.err()
}

// checkEnvironment validates environment variable names. Variables are
// sensitive, so AWS reports the map without echoing it.
func checkEnvironment(v *violations, env *engine.EnvironmentVariables) {
	if env == nil {
		return
	}
	keys := make([]string, 0, len(env.Variables))
	for k := range env.Variables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !ruleEnvVarName.re.MatchString(k) {
			hidden := ""
			v.add("environment.variables", &hidden, true, fmt.Sprintf(
				"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: %s]", ruleEnvVarName.pattern))
			return
		}
	}
}

// checkDurableConfig validates a DurableConfig member.
func checkDurableConfig(v *violations, dc *engine.DurableConfig) {
	if dc == nil {
		return
	}
	v.optInt("durableConfig.executionTimeout", dc.ExecutionTimeout, 1, maxDurationSeconds)
	v.optInt("durableConfig.retentionPeriodInDays", dc.RetentionPeriodInDays, minRetention, maxRetention)
	v.optional("durableConfig.kMSKeyArn", dc.KMSKeyArn, ruleKMSKeyArn)
}

// checkCapacityProviderConfig validates a CapacityProviderConfig member.
func checkCapacityProviderConfig(v *violations, c *engine.CapacityProviderConfig) {
	if c == nil {
		return
	}
	mi := c.LambdaManagedInstancesCapacityProviderConfig
	if mi == nil {
		v.null("capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig")
		return
	}
	const prefix = "capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig."
	v.required(prefix+"capacityProviderArn", mi.CapacityProviderArn, ruleCapacityProviderArn)
	v.optInt(prefix+"perExecutionEnvironmentMaxConcurrency", mi.PerExecutionEnvironmentMaxConcurrency, 1, engine.MaxEnvironmentConcurrency)
	if m := mi.ExecutionEnvironmentMemoryGiBPerVCpu; m != nil && (*m < engine.MinMemoryGiBPerVCpu || *m > engine.MaxMemoryGiBPerVCpu) {
		s := javaDouble(*m)
		constraint := "Member must have value greater than or equal to " + javaDouble(engine.MinMemoryGiBPerVCpu)
		if *m > engine.MaxMemoryGiBPerVCpu {
			constraint = "Member must have value less than or equal to " + javaDouble(engine.MaxMemoryGiBPerVCpu)
		}
		v.add(prefix+"executionEnvironmentMemoryGiBPerVCpu", &s, false, constraint)
	}
}

// javaDouble prints a double as Java does in AWS's messages ("2.0", "2.5").
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}
