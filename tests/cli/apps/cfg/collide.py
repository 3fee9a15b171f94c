import stauth_server as sa


@sa.route("/_stcore/mine")
def mine(request):
    return {}
