//go:build !unix

package bench

import (
	"errors"
	"time"
)

// selfCPU is not measured here: the figure needs getrusage.
func selfCPU() (time.Duration, error) {
	return 0, errors.New("process CPU time is measured on Unix systems only")
}
