"""A plain Streamlit app (no streamlit-auth calls): st.navigation, upload, media, components."""

import io

import streamlit as st
import streamlit.components.v1 as components


def home() -> None:
    st.write("compat-home")
    uploaded = st.file_uploader("upload-here")
    if uploaded is not None:
        st.write(f"uploaded={uploaded.name}:{uploaded.getvalue().decode()}")
    png = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 30, 30)).save(png, format="PNG")
    st.image(png.getvalue(), caption="media-image")
    components.html("<p id='c'>component-inside</p>", height=40)


def other() -> None:
    st.write("compat-other-page")


st.navigation([st.Page(home, title="home", url_path="home", default=True),
               st.Page(other, title="other", url_path="other")]).run()
