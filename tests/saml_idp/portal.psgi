# LemonLDAP::NG's portal as a PSGI app, with its static files; start_idp.sh serves it with
# Starman. Its configuration comes from $LLNG_DEFAULTCONFFILE (DIR/lemonldap-ng.ini).
use strict;
use warnings;
use Plack::Builder;
use Lemonldap::NG::Portal::Main;

my $portal = Lemonldap::NG::Portal::Main->run( {} );

builder {
    enable 'Static', path => qr{^/static/}, root => '/usr/share/lemonldap-ng/portal/htdocs/';
    enable 'Static', path => qr{^/javascript/}, root => '/usr/share/';
    $portal;
};
