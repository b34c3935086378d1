"""MongoDB refusals told apart from outages, and the local stack's MongoDB credentials (no server needed)."""

from __future__ import annotations

import stat

from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError

from mignet_runtime.local_mongo import MongoUsers, service_roles
from mignet_runtime.localstack import load_or_create_dev_passwords
from mignet_runtime.mongo_access import explain, refusal
from mignet_runtime.projection import journaled

#: What PyMongo says once a refused login has marked the server unknown (SecantusDB's wording).
SELECTION_AFTER_REFUSAL = (
    "127.0.0.1:27017: authentication failed, full error: {'ok': 0.0, 'errmsg': 'authentication failed',"
    " 'code': 18, 'codeName': 'AuthenticationFailed'}, Timeout: 2.0s, Topology Description: <...>"
)


def test_a_refused_login_is_named_and_never_mistaken_for_an_outage():
    refused = OperationFailure("Authentication failed.", 18, {"code": 18, "codeName": "AuthenticationFailed"})
    assert refusal(refused) == (
        "MongoDB refused the credentials in MONGODB_URL (AuthenticationFailed, code 18):"
        " check its user, password and authSource"
    )
    assert refusal(ServerSelectionTimeoutError(SELECTION_AFTER_REFUSAL)) == refusal(refused)


def test_a_command_on_another_database_says_which_and_what_to_check():
    denied = OperationFailure(
        "not authorized",
        13,
        {"code": 13, "errmsg": "not authorized on mignet_reviews to execute command (action: find)"},
    )
    assert refusal(denied) == (
        "MongoDB refused this user a command (not authorized on mignet_reviews to execute command (action: find);"
        " Unauthorized, code 13): check the user's roles"
    )


def test_outages_and_other_errors_are_not_refusals():
    assert refusal(ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")) is None
    assert refusal(AutoReconnect("connection closed")) is None
    assert refusal(OperationFailure("duplicate key", 11000)) is None
    assert explain(AutoReconnect("connection closed")) == "AutoReconnect: connection closed"


def test_a_service_url_carries_its_own_user_quoted_and_asks_the_admin_database():
    users = MongoUsers("127.0.0.1", 27120, {"registry": "p@ss/word:1", "admin": "x"})
    assert users.url_for("registry") == "mongodb://registry:p%40ss%2Fword%3A1@127.0.0.1:27120/?authSource=admin"
    assert users.plain_url == "mongodb://127.0.0.1:27120"
    assert service_roles("mignet_registry") == [{"role": "readWrite", "db": "mignet_registry"}]


def test_passwords_are_kept_and_a_missing_one_alone_is_made_anew(tmp_path):
    path = tmp_path / "mongo-passwords.env"
    first = load_or_create_dev_passwords(path, ("admin", "registry"), "MONGO_PASSWORD")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_dev_passwords(path, ("admin", "registry"), "MONGO_PASSWORD") == first
    path.write_text(f"ADMIN_MONGO_PASSWORD={first['admin']}\n")
    again = load_or_create_dev_passwords(path, ("admin", "registry"), "MONGO_PASSWORD")
    assert again["admin"] == first["admin"] and again["registry"] not in ("", first["registry"])
    assert path.read_text() == f"ADMIN_MONGO_PASSWORD={again['admin']}\nREGISTRY_MONGO_PASSWORD={again['registry']}\n"


async def test_read_model_writes_are_journaled_and_as_strong_as_the_url_asks():
    for options, expected in (("", {"w": 1, "j": True}), ("/?w=majority", {"w": "majority", "j": True})):
        client: AsyncMongoClient = AsyncMongoClient(f"mongodb://127.0.0.1:1{options}", connect=False)
        try:
            assert journaled(client["mignet_registry"]).document == expected, options
        finally:
            await client.close()
