package engine

// EnvironmentVariables is a function's environment.
type EnvironmentVariables struct {
	Variables map[string]string `json:"Variables,omitempty"`
}

// EnvironmentResponse is the environment as FunctionConfiguration returns it.
type EnvironmentResponse struct {
	Variables map[string]string `json:"Variables,omitempty"`
}

// FunctionCode is the Code member of CreateFunction. Duro keeps the zip (or
// a local directory, for development) for the runtime host; the service core
// only records its hash and size.
type FunctionCode struct {
	ZipFile  []byte `json:"ZipFile,omitempty"`
	ImageUri string `json:"ImageUri,omitempty"`
	S3Bucket string `json:"S3Bucket,omitempty"`
	S3Key    string `json:"S3Key,omitempty"`
}

// CapacityProviderConfig is Lambda's CapacityProviderConfig: the function
// runs on Lambda Managed Instances. What Duro takes from it is
// PerExecutionEnvironmentMaxConcurrency: how many invocations one worker
// process serves at once (see the runtime package); the capacity provider
// itself is recorded and returned, not provisioned.
type CapacityProviderConfig struct {
	LambdaManagedInstancesCapacityProviderConfig *ManagedInstancesConfig `json:"LambdaManagedInstancesCapacityProviderConfig,omitempty"`
}

// The service model's limits of a managed-instances configuration, shared
// by the wire layer and the template parser, which both check them.
const (
	// CapacityProviderArnPattern is CapacityProviderArn's pattern (1 to 140
	// characters), unanchored.
	CapacityProviderArnPattern = `arn:aws[a-zA-Z-]*:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+`
	// MaxEnvironmentConcurrency bounds PerExecutionEnvironmentMaxConcurrency
	// (from 1).
	MaxEnvironmentConcurrency = 1600
	// MinMemoryGiBPerVCpu and MaxMemoryGiBPerVCpu bound
	// ExecutionEnvironmentMemoryGiBPerVCpu.
	MinMemoryGiBPerVCpu, MaxMemoryGiBPerVCpu = 2, 8
)

// ManagedInstancesConfig is LambdaManagedInstancesCapacityProviderConfig.
type ManagedInstancesConfig struct {
	CapacityProviderArn                   string   `json:"CapacityProviderArn"`
	PerExecutionEnvironmentMaxConcurrency *int32   `json:"PerExecutionEnvironmentMaxConcurrency,omitempty"`
	ExecutionEnvironmentMemoryGiBPerVCpu  *float64 `json:"ExecutionEnvironmentMemoryGiBPerVCpu,omitempty"`
}

// MaxConcurrency is the configured PerExecutionEnvironmentMaxConcurrency:
// 0 when the function is not on managed instances or leaves it to the
// runtime's default.
func (c *CapacityProviderConfig) MaxConcurrency() int {
	if c == nil || c.LambdaManagedInstancesCapacityProviderConfig == nil ||
		c.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency == nil {
		return 0
	}
	return int(*c.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency)
}

// CreateFunctionInput is the CreateFunction request body.
type CreateFunctionInput struct {
	FunctionName  string                `json:"FunctionName"`
	Runtime       string                `json:"Runtime,omitempty"`
	Role          string                `json:"Role,omitempty"`
	Handler       string                `json:"Handler,omitempty"`
	Code          *FunctionCode         `json:"Code,omitempty"`
	Description   string                `json:"Description,omitempty"`
	Timeout       *int32                `json:"Timeout,omitempty"`
	MemorySize    *int32                `json:"MemorySize,omitempty"`
	Publish       bool                  `json:"Publish,omitempty"`
	PackageType   string                `json:"PackageType,omitempty"`
	Environment   *EnvironmentVariables `json:"Environment,omitempty"`
	Architectures []string              `json:"Architectures,omitempty"`
	DurableConfig *DurableConfig        `json:"DurableConfig,omitempty"`
	// CapacityProviderConfig puts the function on managed instances.
	CapacityProviderConfig *CapacityProviderConfig `json:"CapacityProviderConfig,omitempty"`
	// LocalCodeDir runs the function from a directory on this machine
	// instead of an archive (local development; not on the wire).
	LocalCodeDir string `json:"-"`
}

// UpdateFunctionConfigurationInput is the UpdateFunctionConfiguration body.
// Absent members leave the configuration unchanged.
type UpdateFunctionConfigurationInput struct {
	Runtime       *string               `json:"Runtime,omitempty"`
	Role          *string               `json:"Role,omitempty"`
	Handler       *string               `json:"Handler,omitempty"`
	Description   *string               `json:"Description,omitempty"`
	Timeout       *int32                `json:"Timeout,omitempty"`
	MemorySize    *int32                `json:"MemorySize,omitempty"`
	Environment   *EnvironmentVariables `json:"Environment,omitempty"`
	DurableConfig *DurableConfig        `json:"DurableConfig,omitempty"`
	RevisionId    *string               `json:"RevisionId,omitempty"`
	// CapacityProviderConfig replaces the managed-instances configuration.
	CapacityProviderConfig *CapacityProviderConfig `json:"CapacityProviderConfig,omitempty"`
}

// FunctionConfiguration is Lambda's FunctionConfiguration shape, restricted
// to what Duro tracks.
type FunctionConfiguration struct {
	FunctionName     string               `json:"FunctionName"`
	FunctionArn      string               `json:"FunctionArn"`
	Runtime          string               `json:"Runtime,omitempty"`
	Role             string               `json:"Role,omitempty"`
	Handler          string               `json:"Handler,omitempty"`
	CodeSize         int64                `json:"CodeSize"`
	Description      string               `json:"Description"`
	Timeout          int32                `json:"Timeout"`
	MemorySize       int32                `json:"MemorySize"`
	LastModified     string               `json:"LastModified"`
	CodeSha256       string               `json:"CodeSha256"`
	Version          string               `json:"Version"`
	Environment      *EnvironmentResponse `json:"Environment,omitempty"`
	RevisionId       string               `json:"RevisionId"`
	State            string               `json:"State"`
	LastUpdateStatus string               `json:"LastUpdateStatus"`
	PackageType      string               `json:"PackageType"`
	Architectures    []string             `json:"Architectures"`
	DurableConfig    *DurableConfig       `json:"DurableConfig,omitempty"`
	// CapacityProviderConfig is set for functions on managed instances.
	CapacityProviderConfig *CapacityProviderConfig `json:"CapacityProviderConfig,omitempty"`
	// CodeLocation is where the runtime finds the code (never on the wire).
	CodeLocation string `json:"-"`
}

// UpdateFunctionCodeInput is the UpdateFunctionCode request body.
type UpdateFunctionCodeInput struct {
	ZipFile []byte `json:"ZipFile,omitempty"`
	Publish bool   `json:"Publish,omitempty"`
	// LocalCodeDir points $LATEST at a directory on this machine instead of
	// an archive (local development; not on the wire).
	LocalCodeDir string `json:"-"`
}

// FunctionCodeLocation is GetFunction's Code member.
type FunctionCodeLocation struct {
	RepositoryType string `json:"RepositoryType,omitempty"`
	Location       string `json:"Location,omitempty"`
}

// GetFunctionOutput is the GetFunction response.
type GetFunctionOutput struct {
	Configuration FunctionConfiguration `json:"Configuration"`
	Code          FunctionCodeLocation  `json:"Code"`
}

// FunctionList is a ListFunctions or ListVersionsByFunction response.
type FunctionList struct {
	Functions  []FunctionConfiguration `json:"Functions,omitempty"`
	Versions   []FunctionConfiguration `json:"Versions,omitempty"`
	NextMarker string                  `json:"NextMarker,omitempty"`
}
