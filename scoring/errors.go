package scoring

import "errors"

var (
	// ErrInvalidConfig wraps every problem Config.Validate finds.
	ErrInvalidConfig = errors.New("invalid scoring config")
	// ErrUnknownMetric is returned for a metric name the package does not compute.
	ErrUnknownMetric = errors.New("unknown metric")
)
