package sam

import (
	"maps"
	"slices"

	"github.com/duro-run/duro/internal/engine"
)

// CreateFunctionInput returns the CreateFunction request that registers f
// to run from its code directory (LocalCodeDir = CodeUri). Maps and slices
// are copied, so the request can be modified freely.
func (f Function) CreateFunctionInput() engine.CreateFunctionInput {
	in := engine.CreateFunctionInput{
		FunctionName:  f.FunctionName,
		Runtime:       f.Runtime,
		Role:          f.Role,
		Handler:       f.Handler,
		Description:   f.Description,
		Timeout:       copyInt32(f.Timeout),
		MemorySize:    copyInt32(f.MemorySize),
		PackageType:   "Zip",
		Architectures: slices.Clone(f.Architectures),
		LocalCodeDir:  f.CodeUri,
	}
	if len(f.Environment) > 0 {
		in.Environment = &engine.EnvironmentVariables{Variables: maps.Clone(f.Environment)}
	}
	if dc := f.DurableConfig; dc != nil {
		in.DurableConfig = &engine.DurableConfig{
			ExecutionTimeout:      copyInt32(dc.ExecutionTimeout),
			RetentionPeriodInDays: copyInt32(dc.RetentionPeriodInDays),
		}
		if dc.KMSKeyArn != "" {
			k := dc.KMSKeyArn
			in.DurableConfig.KMSKeyArn = &k
		}
	}
	if cp := f.CapacityProvider; cp != nil {
		mi := &engine.ManagedInstancesConfig{CapacityProviderArn: cp.Arn, PerExecutionEnvironmentMaxConcurrency: copyInt32(cp.MaxConcurrency)}
		if cp.MemoryGiBPerVCpu != nil {
			m := *cp.MemoryGiBPerVCpu
			mi.ExecutionEnvironmentMemoryGiBPerVCpu = &m
		}
		in.CapacityProviderConfig = &engine.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: mi}
	}
	return in
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
