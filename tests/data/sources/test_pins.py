import pytest

from pinsage.data.schema import DataError
from pinsage.data.sources.files import SourceFiles
from pinsage.data.sources.pins import load_pins
from tests.conftest import write


@pytest.fixture
def pins_dir(tmp_path):
    root = tmp_path / "pins"
    write(
        root / "pins.csv",
        "pin_id,title,categories,text,dense_0,dense_1\n"
        "p1,Red chair,furniture|red,a red wooden chair,0.1,0.2\n"
        "p2,Blue sofa,furniture,,0.3,0.4\n"
        "p3,Lemon cake,food|dessert,easy lemon cake,0.5,0.6\n",
    )
    write(root / "boards.csv", "board_id,name\nb1,Home\nb2,Baking\n")
    write(
        root / "saves.csv",
        "board_id,pin_id,timestamp\nb1,p1,1600000000\nb1,p2,2020-09-14T12:26:41Z\nb2,p3,1600000100\n",
    )
    return root


def test_reads_pins_boards_and_saves(pins_dir):
    data = load_pins(SourceFiles(pins_dir))
    items = data.items.set_index("item_id")
    assert items.loc["p1", "categories"] == "furniture|red"
    assert items.loc["p2", "text"] == ""
    assert items.loc["p3", "dense_1"] == pytest.approx(0.6)
    assert list(data.users["user_id"]) == ["b1", "b2"]
    # The ISO date-time becomes seconds since the epoch.
    assert data.interactions["timestamp"].tolist() == [1600000000, 1600086401, 1600000100]


def test_boards_file_is_optional(pins_dir):
    (pins_dir / "boards.csv").unlink()
    assert len(load_pins(SourceFiles(pins_dir)).users) == 2


def test_save_to_unknown_board(pins_dir):
    write(pins_dir / "saves.csv", "board_id,pin_id,timestamp\nb1,p1,1\nb9,p2,2\n")
    with pytest.raises(DataError, match=r"saves\.csv, line 3: user 'b9' is not in the user table"):
        load_pins(SourceFiles(pins_dir))


def test_bad_timestamp_names_line(pins_dir):
    write(pins_dir / "saves.csv", "board_id,pin_id,timestamp\nb1,p1,1\nb1,p2,soon\n")
    with pytest.raises(DataError, match=r"saves\.csv, line 3: column 'timestamp'"):
        load_pins(SourceFiles(pins_dir))


def test_non_numeric_dense_value(pins_dir):
    write(pins_dir / "pins.csv", "pin_id,dense_0\np1,0.5\np2,high\np3,0.1\n")
    with pytest.raises(DataError, match=r"pins\.csv, line 3: column 'dense_0'"):
        load_pins(SourceFiles(pins_dir))


def test_duplicate_pin_id(pins_dir):
    write(pins_dir / "pins.csv", "pin_id\np1\np1\np2\np3\n")
    with pytest.raises(DataError, match="item id 'p1' appears more than once"):
        load_pins(SourceFiles(pins_dir))


@pytest.mark.parametrize("value", ["inf", "1e30", "99999999999999999999", "1.5"])
def test_a_timestamp_beyond_whole_seconds_in_64_bits_names_its_line(pins_dir, value):
    """They were stored as -9223372036854775808 (or truncated), and ordered every user's history wrongly."""
    write(pins_dir / "saves.csv", f"board_id,pin_id,timestamp\nb1,p1,1\nb1,p2,{value}\n")
    with pytest.raises(DataError, match=rf"saves\.csv, line 3: column 'timestamp' has {value!r}, not whole seconds"):
        load_pins(SourceFiles(pins_dir))
