"""The protocol: the example loads; every mistake names the file and the key."""

import pytest

from joinedup.protocol import ProtocolError, example_protocol_path, load_protocol


def write(tmp_path, text):
    path = tmp_path / "protocol.toml"
    path.write_text(text)
    return path


def test_example_protocol_loads_with_documented_defaults():
    p = load_protocol(example_protocol_path())
    assert p.evaluation.name.startswith("Integrated Care and Support Pioneers")
    assert (p.data.source, p.data.engine, p.data.simulate.scale) == ("simulate", "duckdb", 0.02)
    assert p.output.disclosure_control is True
    assert len(p.sha256) == 64


def test_unknown_key_is_an_error_naming_its_table(tmp_path):
    path = write(tmp_path, '[evaluation]\nname = "x"\n[data.simulate]\nscael = 0.1\n')
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert str(path) in str(err.value)
    assert "[data.simulate] scael: unknown key" in str(err.value)


def test_bad_values_are_listed_with_what_was_given(tmp_path):
    path = write(tmp_path, '[evaluation]\nname = "x"\n[data]\nengine = "oracle"\n[data.simulate]\nscale = -1\n')
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    text = str(err.value)
    assert "2 problem(s)" in text
    assert "[data] engine:" in text and "'duckdb' or 'spark'" in text and "(got 'oracle')" in text
    assert "[data.simulate] scale: Input should be greater than 0 (got -1)" in text


def test_missing_section_and_bad_toml(tmp_path):
    with pytest.raises(ProtocolError, match=r"evaluation: Field required"):
        load_protocol(write(tmp_path, "[data]\n"))
    with pytest.raises(ProtocolError, match="not valid TOML"):
        load_protocol(write(tmp_path, "[evaluation\nname = 1"))
    with pytest.raises(ProtocolError, match="does not exist"):
        load_protocol(tmp_path / "nope.toml")


def test_years_must_be_ordered(tmp_path):
    path = write(tmp_path, '[evaluation]\nname = "x"\n[data.simulate]\nyears = [2019, 2010]\n')
    with pytest.raises(ProtocolError, match=r"\[data.simulate\] years: Value error, years must be"):
        load_protocol(path)


def test_relative_data_location_resolves_against_the_protocol_folder(tmp_path):
    path = write(tmp_path, '[evaluation]\nname = "x"\n[data]\nsource = "data/england"\n')
    p = load_protocol(path)
    assert p.resolve(p.data.source) == str((tmp_path / "data/england").resolve())
    assert p.resolve("postgres://host/db") == "postgres://host/db"


def test_synthesis_takes_every_estimator_the_meta_analysis_has(tmp_path):
    from joinedup.synthesis.meta_fit import METHODS

    for method in METHODS:
        p = load_protocol(write(tmp_path, f'[evaluation]\nname = "x"\n[synthesis]\nmethod = "{method}"\n'))
        assert p.synthesis.method == method
    with pytest.raises(ProtocolError, match=r"\[synthesis\] method:.*\(got 'GLS'\)"):
        load_protocol(write(tmp_path, '[evaluation]\nname = "x"\n[synthesis]\nmethod = "GLS"\n'))
