package workflows_test

import (
	"fmt"

	"github.com/offload/offload/test/workflows"
)

func ExampleCheck() {
	src := `on: push
jobs:
  deploy:
    runs-on: ubuntu-24.04
    steps:
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
      - run: make apply ENV=prod
`
	w, err := workflows.Parse("deploy.yml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range workflows.Check(w) {
		fmt.Println(f.Line, f.Rule)
	}
	// Output:
	// 3 job-timeout
	// 3 oidc-id-token
	// 3 deploy-environment
	// 6 pinned-action
	// 6 oidc-role
	// 8 static-aws-credentials
	// 8 static-aws-credentials
	// 9 apply-consumes-plan
}
