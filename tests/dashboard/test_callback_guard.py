import json

from dash import Dash, Input, Output, html
from dash.exceptions import PreventUpdate

from dashboard import callback_guard


def small_app() -> Dash:
    app = Dash(__name__)
    app.layout = html.Div([html.Div(id="a"), html.Div(id="b"), html.Div(id="c"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("a", "children"))
    def prevent(_):
        raise PreventUpdate

    @app.callback(Output("b", "children"), Input("c", "children"))
    def typed(value):
        return value + 1  # a string here is a malformed request

    callback_guard.install(app.server)
    return app


def call(client, output: str, inputs: list[dict]):
    body = {
        "output": output,
        "outputs": {"id": output.split(".", maxsplit=1)[0], "property": "children"},
        "inputs": inputs,
    }
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def test_prevent_update_passes_through_as_204():
    client = small_app().server.test_client()
    assert call(client, "out.children", [{"id": "a", "property": "children", "value": 1}]).status_code == 204


def test_a_well_formed_call_answers_200():
    client = small_app().server.test_client()
    reply = call(client, "b.children", [{"id": "c", "property": "children", "value": 1}])
    assert reply.status_code == 200
    assert reply.json["response"]["b"]["children"] == 2


def test_wrong_types_and_unknown_outputs_are_400_not_500():
    client = small_app().server.test_client()
    reply = call(client, "b.children", [{"id": "c", "property": "children", "value": "x"}])
    assert reply.status_code == 400
    assert "could not be answered" in reply.json["error"]
    reply = call(client, "nope.children", [])
    assert reply.status_code == 400
    assert "no server callback" in reply.json["error"]
