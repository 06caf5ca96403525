package envconfig_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/envconfig"
	"github.com/offload/offload/internal/testenv"
)

type shared struct {
	Env string `env:"OFFLOAD_ENV" default:"unknown" doc:"environment"`
}

type settings struct {
	shared
	Table    string          `env:"TABLE,required" doc:"the table"`
	N        int             `env:"N" default:"10" min:"1" max:"100" doc:"how many"`
	Rate     float64         `env:"RATE" default:"10" min:"0" doc:"per second"`
	Resend   bool            `env:"RESEND" doc:"resend"`
	Wait     time.Duration   `env:"WAIT" default:"5s" doc:"wait"`
	Lease    time.Duration   `env:"LEASE" default:"1m" min:"1s" max:"1h" doc:"lease"`
	Provider string          `env:"PROVIDER" default:"sns" oneof:"sns twilio" doc:"provider"`
	Queues   map[string]bool `env:"QUEUES,required" doc:"queues"`
	Count    int             `env:"COUNT" min:"1" max:"1000" doc:"0 = unknown"`
	Untagged string          // no env tag: not read
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	var s settings
	require.NoError(t, envconfig.Load(testenv.Getenv(map[string]string{"TABLE": "t", "QUEUES": " a, b ,,"}), &s))
	require.Equal(t, settings{shared: shared{Env: "unknown"}, Table: "t", N: 10, Rate: 10, Wait: 5 * time.Second, Lease: time.Minute,
		Provider: "sns", Queues: map[string]bool{"a": true, "b": true}}, s)
}

func TestValues(t *testing.T) {
	t.Parallel()
	var s settings
	require.NoError(t, envconfig.Load(testenv.Getenv(map[string]string{"OFFLOAD_ENV": "dev", "TABLE": "t", "N": "100", "RATE": "0", "RESEND": "true",
		"WAIT": "1500ms", "LEASE": "1s", "PROVIDER": "Twilio", "QUEUES": "a", "COUNT": "12"}), &s))
	require.Equal(t, settings{shared: shared{Env: "dev"}, Table: "t", N: 100, Rate: 0, Resend: true, Wait: 1500 * time.Millisecond, Lease: time.Second,
		Provider: "twilio", Queues: map[string]bool{"a": true}, Count: 12}, s)
}

// Every bad variable is reported in one error, with its name, what it
// accepts and the value it got.
func TestEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	var s settings
	err := envconfig.Load(testenv.Getenv(map[string]string{"N": "0", "RATE": "-1", "RESEND": "maybe", "WAIT": "0s", "LEASE": "2h",
		"PROVIDER": "carrier-pigeon", "QUEUES": " , ", "COUNT": "x"}), &s)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Equal(t, []string{
		`TABLE is required`,
		`N must be an integer from 1 to 100, got "0"`,
		`RATE must be a number ≥ 0, got "-1"`,
		`RESEND must be true or false, got "maybe"`,
		`WAIT must be a positive duration such as 30s, got "0s"`,
		`LEASE must be a positive duration such as 30s (from 1s to 1h), got "2h"`,
		`PROVIDER must be sns or twilio, got "carrier-pigeon"`,
		`QUEUES is required (a comma-separated list), got ","`,
		`COUNT must be an integer from 1 to 1000, got "x"`,
	}, lines)
}

func TestVarsAndTable(t *testing.T) {
	t.Parallel()
	var names []string
	for _, v := range envconfig.Vars(settings{}) {
		names = append(names, v.Name)
	}
	require.Equal(t, []string{"OFFLOAD_ENV", "TABLE", "N", "RATE", "RESEND", "WAIT", "LEASE", "PROVIDER", "QUEUES", "COUNT"}, names)
	require.Equal(t, "shared.Env", envconfig.Vars(&settings{})[0].Field)

	values := envconfig.Values(settings{Table: "t", Wait: 90 * time.Second, Queues: map[string]bool{"b": true, "a": true}, Resend: true})
	require.Len(t, values, 10)
	require.Equal(t, "t", values["TABLE"])
	require.Equal(t, "1m30s", values["WAIT"])
	require.Equal(t, "a,b", values["QUEUES"])
	require.Equal(t, "true", values["RESEND"])
	require.Equal(t, "0", values["COUNT"])

	table := envconfig.Table(settings{})
	require.Contains(t, table, "| `OFFLOAD_ENV` | `unknown` | a string | environment |\n")
	require.Contains(t, table, "| `TABLE` | required | a string | the table |\n")
	require.Contains(t, table, "| `N` | `10` | an integer from 1 to 100 | how many |\n")
	require.Contains(t, table, "| `COUNT` | unset | an integer from 1 to 1000 | 0 = unknown |\n")
	require.Len(t, strings.Split(strings.TrimSpace(table), "\n"), 2+10)
}

// Mistakes in the tags are programming errors, found by the first test that
// loads the settings.
func TestBadTagsPanic(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"default out of bounds": &struct {
			N int `env:"N" default:"0" min:"1"`
		}{},
		"bound does not parse": &struct {
			D time.Duration `env:"D" min:"soon"`
		}{},
		"required with default": &struct {
			S string `env:"S,required" default:"x"`
		}{},
		"unknown option": &struct {
			S string `env:"S,optional"`
		}{},
		"unsupported type": &struct {
			U uint `env:"U"`
		}{},
		"read twice": &struct {
			A string `env:"X"`
			B string `env:"X"`
		}{},
	} {
		require.Panics(t, func() { _ = envconfig.Load(testenv.Getenv(nil), v) }, name)
	}
}
