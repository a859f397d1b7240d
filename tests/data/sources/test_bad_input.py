"""Bad input gets an error that names the file, the row and the column."""

import pytest

from pinsage.data.schema import DataError
from pinsage.data.sources.files import SourceFiles
from pinsage.data.sources.movielens import load_movielens


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        SourceFiles(tmp_path / "nowhere")


def test_missing_file(ml100k_dir):
    (ml100k_dir / "u.data").unlink()
    with pytest.raises(DataError, match=r"u\.data.*missing"):
        load_movielens("ml-100k", SourceFiles(ml100k_dir))


def test_wrong_separator(ml100k_dir):
    (ml100k_dir / "u.data").write_text("1,1,5,874965758\n1,2,3,876893171\n")
    with pytest.raises(DataError, match=r"u\.data.*expected 4 fields.*wrong separator"):
        load_movielens("ml-100k", SourceFiles(ml100k_dir))


def test_missing_column(csv_dir):
    (csv_dir / "ratings.csv").write_text("userId,movieId,rating\n1,1,4.0\n")
    with pytest.raises(DataError, match=r"ratings\.csv.*missing column.*timestamp"):
        load_movielens("ml-latest-small", SourceFiles(csv_dir))


def test_non_numeric_id(ml100k_dir):
    (ml100k_dir / "u.data").write_text("1\t1\t5\t874965758\nbob\t2\t3\t876893171\n")
    with pytest.raises(DataError, match=r"u\.data, line 2: column 'user_id' has 'bob', not a whole number"):
        load_movielens("ml-100k", SourceFiles(ml100k_dir))


def test_non_numeric_timestamp(csv_dir):
    (csv_dir / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,4.0,yesterday\n")
    with pytest.raises(DataError, match=r"ratings\.csv, line 3: column 'timestamp'.*'yesterday'"):
        load_movielens("ml-latest-small", SourceFiles(csv_dir))


def test_empty_file(ml1m_dir):
    (ml1m_dir / "ratings.dat").write_text("")
    with pytest.raises(DataError, match=r"ratings\.dat: file is empty"):
        load_movielens("ml-1m", SourceFiles(ml1m_dir))


def test_short_row(ml1m_dir):
    (ml1m_dir / "ratings.dat").write_text("1::10::5::978300760\n1::20::3\n")
    with pytest.raises(DataError, match=r"ratings\.dat, line 2"):
        load_movielens("ml-1m", SourceFiles(ml1m_dir))


def test_interaction_with_unknown_item_names_file_and_line(ml100k_dir, tmp_path):
    """It used to say "event row 2": no file, and for a file with a header not even the line."""
    (ml100k_dir / "u.data").write_text("1\t1\t5\t874965758\n1\t99\t3\t876893171\n")
    with pytest.raises(DataError, match=r"u\.data, line 2: item '99' is not in the item table"):
        load_movielens("ml-100k", SourceFiles(ml100k_dir))
    from pinsage.data.sources.pins import load_pins

    (tmp_path / "pins.csv").write_text("pin_id\np1\n")
    (tmp_path / "saves.csv").write_text("board_id,pin_id,timestamp\nb1,p1,1\nb1,p2,2\n")
    with pytest.raises(DataError, match=r"saves\.csv, line 3: item 'p2' is not in the item table"):
        load_pins(SourceFiles(tmp_path))


def test_neither_folder_nor_zip(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match="neither a folder nor a zip"):
        SourceFiles(path)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("inf", "non-finite value 'inf'"),
        ("-Infinity", "non-finite value '-Infinity'"),
        ("1e39", "value out of float32 range: '1e39'"),
    ],
)
def test_non_finite_dense_values_are_rejected_with_file_line_and_column(tmp_path, value, problem):
    """One `inf` in a dense column made every embedding NaN, and the NaN model was published."""
    from pinsage.data.sources.pins import load_pins

    (tmp_path / "pins.csv").write_text(f"pin_id,dense_0,dense_1\np1,0.5,1.0\np2,0.1,{value}\n")
    (tmp_path / "saves.csv").write_text("board_id,pin_id,timestamp\nb1,p1,1\nb1,p2,2\n")
    with pytest.raises(DataError, match=rf"pins\.csv, line 3: column 'dense_1' has (a )?{problem}"):
        load_pins(SourceFiles(tmp_path))


def test_non_finite_years_are_rejected(tmp_path):
    from pinsage.data.sources.pins import load_pins

    (tmp_path / "pins.csv").write_text("pin_id,year\np1,1999\np2,Infinity\n")
    (tmp_path / "saves.csv").write_text("board_id,pin_id,timestamp\nb1,p1,1\nb1,p2,2\n")
    with pytest.raises(DataError, match=r"pins\.csv, line 3: column 'year' has non-finite value 'Infinity'"):
        load_pins(SourceFiles(tmp_path))


def test_ids_beyond_64_bits_are_rejected_not_wrapped(ml100k_dir):
    """18446744073709551617 used to wrap to another user's id and merge the two users."""
    (ml100k_dir / "u.data").write_text("1\t1\t5\t874965758\n18446744073709551617\t2\t3\t876893171\n")
    with pytest.raises(
        DataError, match=r"u\.data, line 2: column 'user_id' has '18446744073709551617', not a whole number"
    ):
        load_movielens("ml-100k", SourceFiles(ml100k_dir))


def test_negative_timestamps_are_rejected(csv_dir):
    (csv_dir / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,1,4.0,-5\n")
    with pytest.raises(DataError, match=r"ratings\.csv, line 3: column 'timestamp' has negative value '-5'"):
        load_movielens("ml-latest-small", SourceFiles(csv_dir))


@pytest.mark.parametrize(
    "saves, named",
    [
        ("board_id,pin_id,timestamp\nb1,p1,1\n,p1,2\n", r"saves\.csv, line 3: column 'board_id' is empty"),
        ("board_id,pin_id,timestamp\nb1,p1,1\nb1,,2\n", r"saves\.csv, line 3: column 'pin_id' is empty"),
    ],
)
def test_empty_ids_are_rejected(tmp_path, saves, named):
    """An empty board_id became a user named ""; an empty pin_id was reported as another item."""
    from pinsage.data.sources.pins import load_pins

    (tmp_path / "pins.csv").write_text("pin_id\np1\n")
    (tmp_path / "saves.csv").write_text(saves)
    with pytest.raises(DataError, match=named):
        load_pins(SourceFiles(tmp_path))


def test_two_files_of_one_name_are_ambiguous(csv_dir):
    """One of two ratings.csv was picked arbitrarily."""
    (csv_dir / "old").mkdir()
    (csv_dir / "old" / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n")
    with pytest.raises(DataError, match=r"two files named 'ratings\.csv'.*old/ratings\.csv"):
        load_movielens("ml-latest-small", SourceFiles(csv_dir))


def test_a_wrong_separator_is_named_as_the_format_has_it(ml1m_dir):
    """The `::` files were reported with the internal separator '\\x1f'."""
    (ml1m_dir / "ratings.dat").write_text("1,10,5,978300760\n1,20,3,978302109\n")
    with pytest.raises(DataError, match=r"expected 4 fields separated by '::'"):
        load_movielens("ml-1m", SourceFiles(ml1m_dir))
