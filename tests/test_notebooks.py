"""The notebooks in notebooks/, executed for real with a Jupyter kernel (nbclient + ipykernel).

In the master copy every cell runs clean on the reference kernels (the active kernel source there is
``solutions``). In a fresh handout, on a kernel that cannot import the kit (a virtual environment that
borrows this one's packages but not their ``.pth`` files, so ``solutions`` is out of reach as for a
student), each notebook runs up to its check cell, which shows "not implemented yet"; with the
reference solutions copied into the handout's exercises, as a student who finished would have them,
every cell runs clean and every check passes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kit_copies import reference_submission

from grader.vocabulary.exercises import EXERCISES

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

KIT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((KIT / "notebooks").glob("*.ipynb"))


def _tagged(nb, tag):
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def _exercise_of(nb) -> str:
    (index,) = _tagged(nb, "check")
    source = nb.cells[index].source.strip()
    assert source.startswith('check("') and source.endswith('")'), source
    return source[len('check("'):-2]


def _outputs(cell, kind):
    """The text of a cell's outputs of ``kind`` (stream, html, error)."""
    found = []
    for output in cell.get("outputs", []):
        if kind == "stream" and output.output_type == "stream":
            found.append(output.text)
        elif kind == "html" and "text/html" in output.get("data", {}):
            found.append(output.data["text/html"])
        elif kind == "error" and output.output_type == "error":
            found.append(f"{output.ename}: {output.evalue}")
    return "".join(found)


def execute(path: Path, cwd: Path, upto_check: bool = False, kernel_name: str = "python3"):
    """``path`` executed in ``cwd`` (cells after the check cell dropped with ``upto_check``); the notebook."""
    nb = nbformat.read(path, as_version=4)
    if upto_check:
        nb.cells = nb.cells[:_tagged(nb, "check")[0] + 1]
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=kernel_name,
                                     resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        pytest.fail(f"{path.name}: {str(err)[-3000:]}")
    return nb


def test_one_clean_notebook_per_exercise_with_its_colab_setup_and_check_cells():
    assert [_exercise_of(nbformat.read(p, as_version=4)) for p in NOTEBOOKS] == list(EXERCISES)
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert all(not cell.outputs and cell.execution_count is None for cell in code), f"{path.name}: outputs"
        assert _tagged(nb, "colab") == [1] and 'if "google.colab" in sys.modules:' in nb.cells[1].source
        assert _tagged(nb, "setup") == [2] and "from grader import check" in nb.cells[2].source
        assert "gradcheck(" in "".join(cell.source for cell in code), f"{path.name}: no gradient check"
        assert nb.cells[0].cell_type == "markdown" and "Colab" in nb.cells[0].source


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_in_the_master_copy_each_notebook_runs_clean_on_the_reference_kernels(path):
    nb = execute(path, path.parent)
    assert "kernels in use: 'solutions'" in _outputs(nb.cells[2], "stream")
    assert "grader check: public tests on" in _outputs(nb.cells[_tagged(nb, "check")[0]], "html")
    pictures = sum("image/png" in o.get("data", {}) for cell in nb.cells for o in cell.get("outputs", []))
    assert pictures >= 1 or path.stem == "05_residual"


def _kernel_without_the_kit(root: Path) -> str:
    """A kernel spec "handout" running a venv that borrows this interpreter's packages, not its .pth files."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    borrowed = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    Path(site, "borrowed.pth").write_text("".join(f"{p}\n" for p in borrowed))  # paths only: no .pth inside run
    spec = root / "jupyter" / "kernels" / "handout"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "handout", "language": "python"}))
    return str(root / "jupyter")


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    from grader.instructor.release import main

    root = tmp_path_factory.mktemp("notebooks")
    assert main(["--out", str(root / "handout")]) == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", _kernel_without_the_kit(root))
        patch.delenv("MINIGRAD_KERNELS", raising=False)
        yield root / "handout"


@pytest.mark.slow
def test_in_a_fresh_handout_the_notebooks_run_up_to_their_checks_which_say_not_implemented(handout):
    shipped = sorted((handout / "notebooks").glob("*.ipynb"))
    assert [p.name for p in shipped] == [p.name for p in NOTEBOOKS]
    for path in shipped:
        nb = execute(path, path.parent, upto_check=True, kernel_name="handout")
        assert "kernels in use: 'exercises'" in _outputs(nb.cells[2], "stream"), path.name
        html = _outputs(nb.cells[-1], "html")
        assert "[not implemented yet]" in html and "hint:</b> write it" in html, f"{path.name}: {html[:500]}"
        assert not any(_outputs(cell, "error") for cell in nb.cells), path.name


@pytest.mark.slow
def test_in_a_finished_handout_every_notebook_runs_clean_and_every_check_passes(handout, tmp_path):
    finished = tmp_path / "handout"
    shutil.copytree(handout, finished)
    for module in reference_submission(tmp_path / "reference").glob("*.py"):
        shutil.copyfile(module, finished / "exercises" / module.name)
    for path in sorted((finished / "notebooks").glob("*.ipynb")):
        nb = execute(path, path.parent, kernel_name="handout")
        html = _outputs(nb.cells[_tagged(nb, "check")[0]], "html")
        assert "[all passed]" in html and "first failure" not in html, f"{path.name}: {html[:500]}"
