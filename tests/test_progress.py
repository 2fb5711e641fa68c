"""The searches' progress lines (bcsk._progress)."""

from bcsk._progress import FoldProgress


def test_the_line_estimates_the_time_left_from_the_folds_done():
    progress = FoldProgress("Search", 3, "13 candidates x 5 flip costs", 1, 0.5)
    # 10 s for the first fold: 2 folds and half a fold's refit left, 25 s.
    assert progress.line(1, 10.0) == (
        "[Search] fold 1/3 done (13 candidates x 5 flip costs): 10.0 s elapsed, "
        "about 25 s left"
    )
    # After the last fold only the refit is left: 30 s / 3 x 0.5 = 5 s.
    assert progress.line(3, 30.0).endswith("about 5 s left, refit next")
    assert not FoldProgress("S", 2, "x", 1).line(2, 8.0).endswith("refit next")


def test_track_yields_every_result_and_prints_only_when_verbose(capsys):
    assert list(FoldProgress("S", 2, "x", 0).track(["a", "b"])) == ["a", "b"]
    FoldProgress("S", 2, "x", 0).refitted()
    assert capsys.readouterr().out == ""
    assert list(FoldProgress("S", 2, "x", 1).track(["a", "b"])) == ["a", "b"]
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" done")[0] for line in lines] == [
        "[S] fold 1/2",
        "[S] fold 2/2",
    ]
