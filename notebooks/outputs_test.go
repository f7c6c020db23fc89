package notebooks

import (
	"strings"
	"testing"
)

// TestOutputs checks the .ipynb reader on a hand-made executed notebook (runs with -short too).
func TestOutputs(t *testing.T) {
	nb := `{"cells": [
	 {"cell_type": "markdown", "source": "x"},
	 {"cell_type": "code", "metadata": {"execution": {"iopub.execute_input": "2025-01-01T00:00:00Z", "shell.execute_reply": "2025-01-01T00:00:05Z"}},
	  "outputs": [{"output_type": "stream", "name": "stdout", "text": ["Total params: ", "476,720\n"]},
	              {"output_type": "display_data", "data": {"text/html": "<b>222,384</b>", "image/png": "iVBOR"}}]},
	 {"cell_type": "code", "outputs": [{"output_type": "error", "ename": "ERROR", "evalue": "exit status 2"}]},
	 {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stderr", "text": "go: added x v1\n"}]}]}`
	text, errs, slowest, err := outputs([]byte(nb))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Total params: 476,720", "<b>222,384</b>"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q: %q", want, text)
		}
	}
	if strings.Contains(text, "iVBOR") {
		t.Error("image data counted as text")
	}
	if len(errs) != 2 || !strings.Contains(errs[0], "cell 2: ERROR: exit status 2") || !strings.Contains(errs[1], "cell 3: stderr: go: added x v1") {
		t.Errorf("errors %q", errs)
	}
	if slowest != "cell 1 5.0s" {
		t.Errorf("slowest %q", slowest)
	}
	if _, _, _, err := outputs([]byte("not json")); err == nil {
		t.Error("bad JSON: no error")
	}
}

// TestOutputsRefuseLongStdoutLines: a printed line longer than Jupyter's output area is an
// error of the notebook (Jupyter would break it mid-word); progress lines ended by \r count
// one by one.
func TestOutputsRefuseLongStdoutLines(t *testing.T) {
	long := strings.Repeat("word ", 23) // 115 characters
	nb := `{"cells": [{"cell_type": "code", "outputs": [
	  {"output_type": "stream", "name": "stdout", "text": ["short\r` + strings.Repeat("x", 100) + `\rdone\n"]},
	  {"output_type": "stream", "name": "stdout", "text": ["fine\n", "` + long + `\n"]}]}]}`
	_, errs, _, err := outputs([]byte(nb))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "a stdout line of 115 characters") {
		t.Errorf("errors %q, want one for the 115-character line", errs)
	}
}
