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

func TestAppendIntegerMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, v := range []any{true, false, -7, int8(-8), int16(300), int32(-1 << 31), int64(1 << 62), uint(7), uint8(255), uint16(65535), uint32(1 << 31), uint64(1 << 63)} {
		got, ok := AppendInteger(nil, v)
		require.True(t, ok, "%T", v)
		want, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%T", v)
	}
	for _, v := range []any{1.5, "1", nil, struct{}{}} {
		got, ok := AppendInteger([]byte("x"), v)
		require.False(t, ok, "%T", v)
		require.Equal(t, "x", string(got), "nothing appended")
	}
}
