package tfoutputs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func text(o Outputs, name string) string {
	v, _ := o.Text(name)
	return v
}

func TestReadTakesTerraformAndFlatForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tf := filepath.Join(dir, "tf.json")
	require.NoError(t, os.WriteFile(tf, []byte(`{"audit_dlq_url":{"sensitive":false,"type":"string","value":"http://x/1/a-dlq"},
		"function_names":{"type":["map","string"],"value":{"audit-receiver":"p-audit-receiver"}},"sms_dlq_url":{"value":"http://x/1/s-dlq"}}`), 0o600))
	o, err := Read(tf)
	require.NoError(t, err)
	require.Equal(t, "http://x/1/a-dlq", text(o, "audit_dlq_url"))
	require.JSONEq(t, `{"audit-receiver":"p-audit-receiver"}`, text(o, "function_names"))
	require.Equal(t, []string{"audit", "sms"}, o.Pipelines())
	require.Equal(t, "http://x/1/a-dlq", o.AuditDLQURL, "typed fields too")
	require.Equal(t, map[string]string{"audit-receiver": "p-audit-receiver"}, o.FunctionNames)
	require.Equal(t, []string{"audit_dlq_url", "function_names", "sms_dlq_url"}, o.Names())
	require.Equal(t, []string{"audit_table_name"}, o.Missing("audit_dlq_url", "audit_table_name"))

	flat := filepath.Join(dir, "flat.json")
	require.NoError(t, os.WriteFile(flat, []byte(`{"audit_table_name":"t"}`), 0o600))
	o, err = Read(flat)
	require.NoError(t, err)
	v, err := o.Need("audit_table_name")
	require.NoError(t, err)
	require.Equal(t, "t", v)
	_, err = o.Need("sms_queue_url")
	require.ErrorContains(t, err, `no "sms_queue_url"`)

	_, err = Read(filepath.Join(dir, "missing.json"))
	require.ErrorContains(t, err, "missing.json")
}
