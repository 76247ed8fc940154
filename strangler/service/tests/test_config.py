from strangler.service.config import database_settings, filesystem_broker_options


def test_sqlite_gets_wal_immediate_transactions_and_a_busy_timeout(tmp_path):
    config = database_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}")

    assert config["NAME"] == str(tmp_path / "x.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] == 30
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_sqlite_tests_run_on_a_file_beside_the_database_so_locking_is_real(tmp_path):
    config = database_settings(f"sqlite:///{tmp_path / 'auth.sqlite3'}")

    assert config["TEST"]["NAME"] == str(tmp_path / "test-auth.sqlite3")


def test_postgres_keeps_connections_and_checks_them_before_reuse():
    config = database_settings("postgres://shop@db:5432/auth", conn_max_age=15)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["HOST"], config["USER"]) == ("auth", "db", "shop")
    assert config["CONN_MAX_AGE"] == 15
    assert config["CONN_HEALTH_CHECKS"] is True
    assert "OPTIONS" not in config or "transaction_mode" not in config["OPTIONS"]


def test_filesystem_broker_folders_are_created_and_shared_control_included(tmp_path):
    options = filesystem_broker_options(tmp_path / "broker")

    assert options["data_folder_in"] == options["data_folder_out"]
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        assert (tmp_path / "broker").joinpath(options[key]).is_dir()
    assert options["control_folder"] == str(tmp_path / "broker" / "control")
