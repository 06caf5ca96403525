package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// stdlib is encoding/json's encoding of s with HTML escaping off.
func stdlib(t testing.TB, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(s))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "<b>&amp;</b>",
		"héllo wörld ✓", "bad \xff utf8 \xc3", "line\u2028sep\u2029", "emoji 🙂 end"} {
		require.Equal(t, stdlib(t, s), string(Append(nil, s)), "%q", s)
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("seed \" \\ \n \xff \u2028")
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, stdlib(t, s), string(Append(nil, s)))
	})
}
