"""The layout rules of CONTRIBUTING.md, read from the source: scripts are leaves, no ``sys.path`` edits, short
functions."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bodily_tsn", "emotic_context", "emotionroi_ex", "fer_seresnet", "shared_utils")
# time_train_step.py runs against *older* checkouts (benchmark.py --ref), whose trainer script still held
# make_loss_fn; the fallback import only happens there.
ALLOWED = {("bodily_tsn.time_train_step", "bodily_tsn.train_EmoReact")}
# Libraries that also answer on the command line: what others import is their library part (the demo writers,
# the dataset readers behind `dataset describe`, the weights registry, the EmoReact frame extractor).
LIBRARIES_WITH_A_CLI = {"bodily_tsn.demo_data", "emotic_context.demo_data", "emotionroi_ex.demo_data",
                        "fer_seresnet.demo_data", "fer_seresnet.dataset", "shared_utils.weights",
                        "bodily_tsn.tools.vid2img_emoreact"}


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield module, path, ast.parse(path.read_text(), filename=str(path))


def _is_script(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = {getattr(n, "id", None) for n in ast.walk(node.test)}
            if "__name__" in names:
                return True
    return False


def _imported_modules(tree: ast.Module, module: str) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


SOURCES = list(_sources())
WITH_MAIN = {module for module, _, tree in SOURCES if _is_script(tree) and not module.endswith("__main__")}
SCRIPTS = WITH_MAIN - LIBRARIES_WITH_A_CLI


def test_the_rule_sees_the_scripts():
    # the rule is only worth something if it recognises the entry points it is about
    assert {"fer_seresnet.evaluate", "fer_seresnet.train", "emotionroi_ex.train_ROI_clf",
            "emotionroi_ex.train_RIO_clf", "bodily_tsn.train_EmoReact", "emotic_context.main"} <= SCRIPTS
    assert "fer_seresnet.scoring" not in SCRIPTS and "emotionroi_ex.map_classifier_training" not in SCRIPTS
    assert LIBRARIES_WITH_A_CLI <= WITH_MAIN  # the exceptions name modules that exist and have a command line


@pytest.mark.parametrize("module,path,tree", SOURCES, ids=[m for m, _, _ in SOURCES])
def test_no_module_imports_a_script(module, path, tree):
    imported = {name for name in _imported_modules(tree, module) if name in SCRIPTS and name != module}
    assert not {name for name in imported if (module, name) not in ALLOWED}, f"{path} imports script(s) {imported}"


def test_no_sys_path_edits_and_no_long_functions():
    offenders, long_functions = [], []
    for path in [*(p for _, p, _ in SOURCES), *sorted((ROOT / "tests").rglob("*.py"))]:
        text = path.read_text()
        if "sys.path.insert" in text.replace('"sys.path.insert"', ""):
            offenders.append(str(path))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 100:
                long_functions.append(f"{path}:{node.lineno} {node.name}")
    assert not offenders, offenders
    assert not long_functions, long_functions
